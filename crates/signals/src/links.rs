//! GitHub repositories named by a paper: found in its code URL, comment and
//! abstract, as `owner/repo`, with the URL clutter of real abstracts removed
//! (`.git`, `/tree/main/...`, trailing punctuation, LaTeX `\_`, `}` of a
//! `\url{...}`) and site pages that are not repositories left out
//! (`github.com/features/...`, `orgs/...`, `sponsors/...`, gists, GitHub
//! Pages sites). GitHub compares names case-blind, so two spellings of one
//! repository count once, in the spelling seen first.

use std::fmt;

/// One GitHub repository, `owner/name`, as a paper spelled it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoRef {
    pub owner: String,
    pub name: String,
}

/// First path segments of github.com that are site pages, not owners.
const NOT_OWNERS: &[&str] = &[
    "about",
    "apps",
    "blog",
    "codespaces",
    "collections",
    "contact",
    "customer-stories",
    "enterprise",
    "events",
    "explore",
    "features",
    "git-guides",
    "issues",
    "join",
    "login",
    "marketplace",
    "new",
    "notifications",
    "orgs",
    "organizations",
    "pricing",
    "pulls",
    "readme",
    "search",
    "security",
    "settings",
    "site",
    "sponsors",
    "team",
    "topics",
    "trending",
    "users",
];

impl RepoRef {
    /// `owner/name` as given: the owner is 1 to 39 letters, digits or
    /// hyphens (not at either end), the name 1 to 100 letters, digits, `.`,
    /// `-` or `_` and not `.` or `..`. A trailing `.git` is dropped. `None`
    /// for anything else, and for site pages (`features/copilot`).
    pub fn parse(full_name: &str) -> Option<RepoRef> {
        let (owner, name) = full_name.trim().split_once('/')?;
        let name = name.strip_suffix(".git").unwrap_or(name);
        let owner_ok = (1..=39).contains(&owner.len())
            && owner.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !owner.starts_with('-')
            && !owner.ends_with('-');
        let name_ok = (1..=100).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            && name != "."
            && name != "..";
        if !owner_ok || !name_ok || NOT_OWNERS.contains(&owner.to_ascii_lowercase().as_str()) {
            return None;
        }
        Some(RepoRef { owner: owner.to_string(), name: name.to_string() })
    }

    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// The lower-cased `owner/name`: equal for every spelling of one repository.
    pub fn key(&self) -> String {
        self.full_name().to_ascii_lowercase()
    }

    /// `https://github.com/owner/name`.
    pub fn url(&self) -> String {
        format!("https://github.com/{}", self.full_name())
    }
}

impl fmt::Display for RepoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// The repositories named in `texts`, in order of first mention, each once
/// (case-blind).
pub fn repos_in<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<RepoRef> {
    let mut found: Vec<RepoRef> = Vec::new();
    for text in texts {
        for repo in scan(text) {
            if !found.iter().any(|r| r.key() == repo.key()) {
                found.push(repo);
            }
        }
    }
    found
}

/// A paper's repositories: its code link first (a submitter's or another
/// source's choice), then those in its comment, then in its abstract.
pub fn paper_repos(code_url: Option<&str>, comment: Option<&str>, abstract_text: &str) -> Vec<RepoRef> {
    repos_in(code_url.into_iter().chain(comment).chain(std::iter::once(abstract_text)))
}

/// The repository of one URL or bare `owner/repo` (Hugging Face's
/// `githubRepo` is a URL; other sources give either), if it is one.
pub fn repo_from_url(url: &str) -> Option<RepoRef> {
    scan(url).next().or_else(|| RepoRef::parse(url.trim().trim_end_matches('/')))
}

/// Every `github.com/owner/repo` in `text`, in order (duplicates included).
fn scan(text: &str) -> impl Iterator<Item = RepoRef> + '_ {
    const HOST: &str = "github.com/";
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let starts: Vec<usize> = lower.match_indices(HOST).map(|(i, _)| i).collect();
    starts.into_iter().filter_map(move |at| {
        // `github.com` itself, not `gist.github.com`, `mygithub.com` or a
        // `*.github.com` host: only `www.` or a non-host character may precede it.
        let before = &lower[..at];
        let host_ok = match before.strip_suffix("www.") {
            Some(rest) => rest.bytes().last().is_none_or(|b| !is_host_byte(b)),
            None => before.bytes().last().is_none_or(|b| !is_host_byte(b)),
        };
        if !host_ok {
            return None;
        }
        let mut segments = Vec::with_capacity(2);
        let mut i = at + HOST.len();
        for _ in 0..2 {
            let mut segment = String::new();
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' if bytes.get(i + 1) == Some(&b'_') => {
                        segment.push('_');
                        i += 2;
                    }
                    b if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') => {
                        segment.push(b as char);
                        i += 1;
                    }
                    _ => break,
                }
            }
            segments.push(segment);
            if bytes.get(i) != Some(&b'/') {
                break;
            }
            i += 1;
        }
        let [owner, name] = segments.as_slice() else { return None };
        // A sentence's full stop (or an ellipsis) after the URL is not part of the name.
        let name = name.trim_end_matches('.');
        RepoRef::parse(&format!("{owner}/{name}"))
    })
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(texts: &[&str]) -> Vec<String> {
        repos_in(texts.iter().copied()).iter().map(RepoRef::full_name).collect()
    }

    #[test]
    fn real_abstract_endings_give_clean_names() {
        // Snippets from arXiv abstracts of March 2025 (sample-1k.jsonl).
        let cases = [
            ("The code is available at https://github.com/gosha20777/cmKAN", "gosha20777/cmKAN"),
            ("Code is available at https://github.com/zhu-xlab/Copernicus-FM.", "zhu-xlab/Copernicus-FM"),
            (
                "Our code is available at\n\\href{https://github.com/xielaobanyy/causal-imt}{https://github.com/xielaobanyy/causal-imt}.",
                "xielaobanyy/causal-imt",
            ),
            ("available at \\url{https://github.com/yiyscut/VIO-IPNet.git}.", "yiyscut/VIO-IPNet"),
            ("at https://github.com/SCZwangxiao/video-FlexReduc.git.", "SCZwangxiao/video-FlexReduc"),
            ("see https://github.com/yaotingwangofficial/Awesome-MCoT; we hope", "yaotingwangofficial/Awesome-MCoT"),
            ("released at https://github.com/zhoujiahuan1991/CVPR2025-SCAP.", "zhoujiahuan1991/CVPR2025-SCAP"),
            ("https://github.com/3190105222/EgoEv\\_Gesture.", "3190105222/EgoEv_Gesture"),
            ("(https://github.com/deepcoxcom/3dgs/tree/main/src)", "deepcoxcom/3dgs"),
            ("Code: github.com/NJUVISION/RENO.", "NJUVISION/RENO"),
            ("Code at https://www.github.com/state-spaces/mamba.", "state-spaces/mamba"),
            ("see https://github.com/alxndrTL/mamba.py.", "alxndrTL/mamba.py"),
            // From the seed page (Hugging Face's Trending Papers).
            ("energy-based training. Code is at https://github.com/PrincetonLIPS/MaM.", "PrincetonLIPS/MaM"),
            ("The code is available at: https://github.com/Andron00e/SparseCBM.", "Andron00e/SparseCBM"),
        ];
        for (text, want) in cases {
            assert_eq!(names(&[text]), [want], "{text:?}");
        }
    }

    #[test]
    fn site_pages_gists_and_pages_sites_are_not_repositories() {
        let text = "See https://github.com, https://github.com/features/copilot, \
                    https://github.com/orgs/openai/repositories, https://github.com/sponsors/someone, \
                    https://gist.github.com/karpathy/d4dee566867f8291f086, https://nerfies.github.io/, \
                    https://github.com/karpathy (a profile), https://raw.githubusercontent.com/a/b/main/x, \
                    https://notgithub.com/a/b and https://github.com/topics/llm.";
        assert!(names(&[text]).is_empty(), "{:?}", names(&[text]));
    }

    #[test]
    fn duplicates_are_case_blind_and_keep_first_spelling_and_order() {
        let code = "https://github.com/xyhanHIT/PL-VTON";
        let comment = "Accepted at CVPR 2025. Code: https://github.com/openai/CLIP";
        let abs = "We build on github.com/OpenAI/clip. Code: https://github.com/xyhanhit/pl-vton.git";
        let repos = paper_repos(Some(code), Some(comment), abs);
        let got: Vec<String> = repos.iter().map(RepoRef::full_name).collect();
        assert_eq!(got, ["xyhanHIT/PL-VTON", "openai/CLIP"]);
        assert_eq!(repos[1].key(), "openai/clip");
        assert_eq!(repos[1].url(), "https://github.com/openai/CLIP");
    }

    #[test]
    fn names_are_validated() {
        assert_eq!(RepoRef::parse("a/b.git").unwrap().full_name(), "a/b");
        for bad in ["a", "/b", "a/", "-a/b", "a-/b", "a/..", "a b/c", "features/copilot", "a/b/c"] {
            assert_eq!(RepoRef::parse(bad), None, "{bad}");
        }
        assert_eq!(repo_from_url("https://github.com/state-spaces/mamba").unwrap().full_name(), "state-spaces/mamba");
        assert_eq!(repo_from_url("state-spaces/mamba").unwrap().full_name(), "state-spaces/mamba");
        assert_eq!(repo_from_url("https://gitlab.com/a/b"), None);
    }
}
