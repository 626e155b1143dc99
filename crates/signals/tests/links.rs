//! Repository links found in real arXiv records: the 1,000 of
//! `../shared/data/arxiv/sample-1k.jsonl` beside the checkout (or beside the
//! directory of worktrees; skipped with a message when it is not there).

use paperboy_signals::links::paper_repos;
use serde::Deserialize;

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "abstract")]
    abstract_text: String,
    comment: Option<String>,
}

#[test]
fn sample_1k_papers_name_repositories() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let candidates = ["/../shared/data/arxiv/sample-1k.jsonl", "/../../shared/data/arxiv/sample-1k.jsonl"];
    let Some(text) = candidates.iter().find_map(|c| std::fs::read_to_string(format!("{root}{c}")).ok()) else {
        eprintln!("skipped: ../shared/data/arxiv/sample-1k.jsonl is not there");
        return;
    };
    let (mut papers, mut with_repo, mut repos, mut mentions) = (0, 0, 0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let r: Record = serde_json::from_str(line).expect("a JSON record");
        papers += 1;
        let found = paper_repos(None, r.comment.as_deref(), &r.abstract_text);
        let all = format!("{} {}", r.comment.as_deref().unwrap_or(""), r.abstract_text).to_ascii_lowercase();
        mentions += usize::from(all.contains("github.com/"));
        with_repo += usize::from(!found.is_empty());
        repos += found.len();
        for repo in &found {
            assert!(!repo.name.ends_with(".git") && !repo.name.ends_with('.'), "{repo}");
        }
    }
    println!(
        "sample-1k: {papers} papers, {mentions} mention github.com/, {with_repo} yield a repository, {repos} repositories"
    );
    assert_eq!(papers, 1_000);
    assert!(with_repo >= 150 && with_repo <= mentions, "{with_repo} of {mentions}");
}
