//! Output files that appear whole or not at all.
//!
//! Output goes to a temporary file beside the destination and is renamed over it only when
//! everything was written; on any error (or a kill) the destination is untouched and the
//! temporary file is removed (or, after a kill, left with a `.callsynth-` prefix for the user
//! to delete).

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tempfile::NamedTempFile;

/// Where bytes go: standard output, or a file committed at the end.
pub enum Output {
    /// Standard output.
    Stdout(BufWriter<io::Stdout>),
    /// A temporary file to be renamed to `path`.
    File {
        /// The temporary file.
        temp: BufWriter<NamedTempFile>,
        /// The destination.
        path: PathBuf,
    },
}

impl Output {
    /// Opens `path`, or standard output for `None` or `-`.
    ///
    /// # Errors
    ///
    /// The destination's directory does not exist or is not writable.
    pub fn create(path: Option<&Path>, flag: &str) -> Result<Output> {
        match path {
            None => Ok(Output::Stdout(BufWriter::with_capacity(1 << 20, io::stdout()))),
            Some(p) if p.as_os_str() == "-" => Ok(Output::Stdout(BufWriter::with_capacity(1 << 20, io::stdout()))),
            Some(p) => {
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                if p.is_dir() {
                    anyhow::bail!("{flag} {}: is a directory", p.display());
                }
                let temp =
                    tempfile::Builder::new().prefix(".callsynth-").suffix(".partial").tempfile_in(dir).with_context(
                        || format!("{flag} {}: cannot create a file in {}", p.display(), dir.display()),
                    )?;
                Ok(Output::File { temp: BufWriter::with_capacity(1 << 20, temp), path: p.to_path_buf() })
            }
        }
    }

    /// Flushes and, for a file, renames it into place.
    ///
    /// # Errors
    ///
    /// Flushing or renaming failed; the destination is then untouched.
    pub fn commit(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => Ok(w.flush()?),
            Output::File { temp, path } => {
                let temp = temp.into_inner().map_err(|e| e.into_error())?;
                temp.as_file().sync_data().ok();
                temp.persist(&path).with_context(|| format!("cannot move output into place at {}", path.display()))?;
                Ok(())
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File { temp, .. } => temp.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.write_all(buf),
            Output::File { temp, .. } => temp.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File { temp, .. } => temp.flush(),
        }
    }
}

/// Whether an error chain bottoms out in a broken pipe (`callsynth … | head`), which is not a
/// failure worth reporting.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe))
}

/// Reads a whole file with the flag that named it in the error.
pub fn read_file(path: &Path, flag: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{flag} {}: cannot read", path.display()))
}
