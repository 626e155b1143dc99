//! Helpers shared by the integration tests: sample papers and the model
//! directory lookup.
#![allow(dead_code)]

use chrono::NaiveDate;
use paperboy_core::{Paper, PaperId};

/// A normalised paper.
pub fn paper(id: &str, title: &str, abs: &str, authors: &[&str], cats: &[&str], day: (i32, u32, u32)) -> Paper {
    let mut p = Paper::new(
        PaperId::parse(id).expect("test ids are valid"),
        title,
        NaiveDate::from_ymd_opt(day.0, day.1, day.2).expect("valid test date"),
    );
    p.abstract_text = abs.to_string();
    p.authors = authors.iter().map(|s| s.to_string()).collect();
    p.categories = cats.iter().map(|s| s.to_string()).collect();
    p.normalize();
    p
}

/// A small varied catalog.
pub fn catalog() -> Vec<Paper> {
    vec![
        paper(
            "2312.00752",
            "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
            "Foundation models are almost universally based on the Transformer architecture. We propose selective state space models.",
            &["Albert Gu", "Tri Dao"],
            &["cs.LG", "cs.AI"],
            (2023, 12, 4),
        ),
        paper(
            "2205.14135",
            "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
            "Transformers are slow and memory-hungry on long sequences. We propose an IO-aware exact attention algorithm.",
            &["Tri Dao", "Daniel Y. Fu", "Stefano Ermon"],
            &["cs.LG"],
            (2022, 5, 27),
        ),
        paper(
            "1706.03762",
            "Attention Is All You Need",
            "The dominant sequence transduction models are based on recurrent networks. We propose the Transformer, based solely on attention.",
            &["Ashish Vaswani", "Noam Shazeer"],
            &["cs.CL", "cs.LG"],
            (2017, 6, 12),
        ),
        paper(
            "2006.11239",
            "Denoising Diffusion Probabilistic Models",
            "We present high quality image synthesis results using diffusion probabilistic models <b>and</b> Langevin dynamics & score matching.",
            &["Jonathan Ho", "Ajay Jain", "Pieter Abbeel"],
            &["cs.LG", "stat.ML"],
            (2020, 6, 19),
        ),
        paper(
            "2501.00001",
            "Quantum error correction below the surface code threshold",
            "We demonstrate logical qubits whose error rates fall as the code distance grows.",
            &["Jane Quantum"],
            &["quant-ph"],
            (2025, 1, 2),
        ),
        paper(
            "2502.00002",
            "Vision transformers for medical image segmentation",
            "A transformer encoder for segmenting medical images, compared with convolutional networks.",
            &["Ana Müller"],
            &["cs.CV", "eess.IV"],
            (2025, 2, 3),
        ),
    ]
}

pub use paperboy_test_support::fixtures::model_dir;
