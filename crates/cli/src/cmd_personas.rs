//! `callsynth personas list|validate`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use synth::persona_file::{self, PersonaSet};

use crate::persona_source::PersonaArgs;

#[derive(Debug, Subcommand)]
pub enum PersonasCommand {
    /// Print the personas with their derived difficulty and skill scores.
    List {
        #[command(flatten)]
        personas: PersonaArgs,
        /// Seed for --customers.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check persona files; prints every problem (file, record, field) and exits 1 if any.
    Validate {
        /// Customer or agent files (the kind is read from the top-level key).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

pub fn run(cmd: PersonasCommand) -> Result<ExitCode> {
    match cmd {
        PersonasCommand::List { personas, seed, json } => {
            let (catalog, pool) = personas.load(seed)?;
            let mut out = std::io::stdout().lock();
            use std::io::Write;
            if json {
                for c in &pool.customers {
                    let line = serde_json::json!({
                        "kind": "customer", "name": c.persona.customer_name, "phone": c.persona.phone_number,
                        "difficulty": round(c.difficulty), "category": catalog.categories[c.category].id,
                        "difficult": c.is_difficult(), "patient": c.is_patient(),
                    });
                    writeln!(out, "{line}")?;
                }
                for a in &pool.agents {
                    let line = serde_json::json!({
                        "kind": "agent", "name": a.persona.agent_name,
                        "competence": a.persona.competence_level.as_str(), "skill": round(a.skill),
                    });
                    writeln!(out, "{line}")?;
                }
            } else {
                writeln!(out, "CUSTOMERS ({})", pool.customers.len())?;
                writeln!(out, "{:<26} {:<14} {:>10}  {:<18} demeanour", "name", "phone", "difficulty", "category")?;
                for c in &pool.customers {
                    let tag = if c.is_difficult() {
                        " [difficult]"
                    } else if c.is_patient() {
                        " [patient]"
                    } else {
                        ""
                    };
                    writeln!(
                        out,
                        "{:<26} {:<14} {:>10.2}  {:<18} {}{tag}",
                        c.persona.customer_name,
                        c.persona.phone_number,
                        c.difficulty,
                        catalog.categories[c.category].id,
                        c.persona.demeanor
                    )?;
                }
                writeln!(out, "\nAGENTS ({})", pool.agents.len())?;
                writeln!(out, "{:<12} {:<10} {:>6}  attitude", "name", "competence", "skill")?;
                for a in &pool.agents {
                    writeln!(
                        out,
                        "{:<12} {:<10} {:>6.2}  {}",
                        a.persona.agent_name,
                        a.persona.competence_level.as_str(),
                        a.skill,
                        a.persona.attitude
                    )?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        PersonasCommand::Validate { files } => {
            let mut failed = false;
            for file in &files {
                match persona_file::load_any(file) {
                    Ok(PersonaSet::Customers(c)) => outln!("{}: ok ({} customers)", file.display(), c.len())?,
                    Ok(PersonaSet::Agents(a)) => outln!("{}: ok ({} agents)", file.display(), a.len())?,
                    Err(errors) => {
                        failed = true;
                        eprintln!("{errors}");
                    }
                }
            }
            Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
