//! The persona flags shared by `generate` and `personas list`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use synth::catalog::Catalog;
use synth::persona_file;
use synth::personas::{self, PersonaPool};

/// Which personas to use.
#[derive(Debug, Clone, Args)]
pub struct PersonaArgs {
    /// Customer personas in the origin template's format ({"CustomerPrompts": [...]}).
    /// Default: the built-in set of 22 customers.
    #[arg(long, value_name = "FILE")]
    pub customers_file: Option<PathBuf>,

    /// Agent personas in the origin template's format ({"AgentPrompts": [...]}).
    /// Default: the built-in set of 12 agents.
    #[arg(long, value_name = "FILE")]
    pub agents_file: Option<PathBuf>,

    /// Synthesise N distinct customers from the seed instead of reading customers
    /// (names, fictional 555-01xx phones, example.* e-mails, issues, demeanours).
    #[arg(long, value_name = "N", conflicts_with = "customers_file")]
    pub customers: Option<usize>,

    /// Phrase catalogue (TOML) for another domain; default: built-in retail e-commerce.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
}

impl PersonaArgs {
    /// Loads the catalogue and the personas these flags name.
    ///
    /// # Errors
    ///
    /// Every problem in the files, each naming file, record and field.
    pub fn load(&self, seed: u64) -> Result<(Catalog, PersonaPool)> {
        let catalog = match &self.catalog {
            None => Catalog::builtin(),
            Some(path) => {
                let text = crate::output::read_file(path, "--catalog")?;
                Catalog::parse(&path.display().to_string(), &text)?
            }
        };
        let customers = match (&self.customers_file, self.customers) {
            (Some(path), _) => persona_file::load_customers(path).context("invalid --customers-file")?,
            (None, Some(n)) => personas::procedural_customers(n, seed, &catalog)?,
            (None, None) => personas::builtin_customers(),
        };
        let agents = match &self.agents_file {
            Some(path) => persona_file::load_agents(path).context("invalid --agents-file")?,
            None => personas::builtin_agents(),
        };
        Ok((catalog.clone(), PersonaPool::new(customers, agents, &catalog)))
    }
}
