//! Integration tests of `paperboy-signals`: the GitHub and Hugging Face
//! clients against a replay server on 127.0.0.1 answering from recorded
//! fixtures (`tests/fixtures/github/`, `tests/fixtures/huggingface/`),
//! linked into one test binary.

mod replay;

mod github;
mod huggingface;
mod links;
