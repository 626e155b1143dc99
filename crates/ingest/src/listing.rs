//! Plain-text listing pages, like a "trending papers" page pasted as text:
//! paragraphs separated by blank lines, each paper a short title paragraph
//! followed by a long abstract paragraph. Site chrome ("Subscribe", "new")
//! is recognised as short paragraphs not followed by an abstract, and a day
//! header such as `Mar 11` sets the listing date.

use std::collections::VecDeque;

use chrono::NaiveDate;
use paperboy_core::{Paper, PaperId};

use crate::ImportOptions;
use crate::dates::parse_day_header;
use crate::item::{Item, finish};
use crate::lines::{Line, LineReader, bad_utf8_reason, io_reason, too_long_reason};

/// A title is at most this many characters.
pub(crate) const MAX_TITLE_CHARS: usize = 300;
/// An abstract is more than this many characters.
pub(crate) const MIN_ABSTRACT_CHARS: usize = 200;
/// Longest paragraph kept in memory.
const MAX_PARAGRAPH_BYTES: usize = 1024 * 1024;

/// One paragraph: consecutive non-blank lines, joined with spaces.
struct Para {
    line: u64,
    text: String,
    chars: usize,
    /// Why the paragraph cannot be used (bad UTF-8, too long).
    problem: Option<String>,
}

impl Para {
    fn location(&self) -> String {
        format!("paragraph at line {}", self.line)
    }

    fn words(&self) -> usize {
        self.text.split_whitespace().count()
    }

    fn is_abstract(&self) -> bool {
        self.chars > MIN_ABSTRACT_CHARS
    }

    fn is_title(&self) -> bool {
        self.chars <= MAX_TITLE_CHARS
    }

    /// A sentence or two: too long to be a button or a heading, and ending
    /// like prose. Used to tell a too-short abstract from site chrome.
    fn is_prose(&self) -> bool {
        self.words() >= 10 && self.text.ends_with(['.', '!', '?'])
    }
}

/// The papers of a listing page.
///
/// Each paper gets [`PaperId::local_from_title`] and no authors. Its
/// `listed_on` is [`ImportOptions::listed_on`] if given, else the last day
/// header (`Mar 11`, in the most recent year that does not put it after
/// [`ImportOptions::today`]) seen before it, else today.
///
/// Rules: a title paragraph (at most 300 characters) followed by an
/// abstract paragraph (more than 200 characters) is a paper. A short
/// paragraph not followed by an abstract is chrome and ignored, unless what
/// follows it reads like a short abstract (ten words or more, ending with a
/// full stop): then the entry is rejected rather than guessed at. A long
/// paragraph with no title before it is rejected (it is often a second
/// abstract paragraph; join the two). A title left at the end of the text
/// is rejected when it has four words or more (the text was probably cut
/// off), else ignored as chrome.
pub(crate) struct Listing {
    lines: LineReader,
    opts: ImportOptions,
    date: NaiveDate,
    pending: Option<Para>,
    queue: VecDeque<Item>,
    eof: bool,
}

impl Listing {
    pub(crate) fn new(lines: LineReader, opts: ImportOptions) -> Self {
        Listing {
            lines,
            date: opts.listed_on.unwrap_or(opts.today),
            opts,
            pending: None,
            queue: VecDeque::new(),
            eof: false,
        }
    }

    /// Reads the next paragraph; `None` at the end of the input.
    fn read_paragraph(&mut self) -> Option<Para> {
        let mut para: Option<Para> = None;
        loop {
            let (no, line) = self.lines.next_line();
            let problem = match line {
                Line::Text(t) if t.trim().is_empty() => {
                    if para.is_some() {
                        return para;
                    }
                    continue;
                }
                Line::Text(t) => {
                    let p = para.get_or_insert_with(|| Para { line: no, text: String::new(), chars: 0, problem: None });
                    if p.text.len() + t.len() > MAX_PARAGRAPH_BYTES {
                        p.problem.get_or_insert_with(|| {
                            "the paragraph is longer than 1 MiB (is this really a listing page?)".to_string()
                        });
                    } else {
                        if !p.text.is_empty() {
                            p.text.push(' ');
                        }
                        p.text.push_str(t.trim());
                        p.chars += t.trim().chars().count() + usize::from(p.chars > 0);
                    }
                    continue;
                }
                Line::BadUtf8 { valid_up_to } => {
                    format!("line {no}: {}", bad_utf8_reason(valid_up_to))
                }
                Line::TooLong => format!("line {no}: {}", too_long_reason()),
                Line::Io(e) => {
                    self.eof = true;
                    self.queue.push_back(Item::rejected(format!("line {no}"), io_reason(&e)));
                    return None;
                }
                Line::Eof => {
                    self.eof = true;
                    return para;
                }
            };
            // An unreadable line spoils the paragraph it is in.
            let p = para.get_or_insert_with(|| Para { line: no, text: String::new(), chars: 0, problem: None });
            p.problem.get_or_insert(problem);
        }
    }

    fn process(&mut self, p: Para) {
        if p.problem.is_none()
            && let Some(day) = parse_day_header(&p.text, self.opts.today)
        {
            // Whatever was pending is chrome.
            self.pending = None;
            if self.opts.listed_on.is_none() {
                self.date = day;
            }
            return;
        }
        if let Some(title) = self.pending.take() {
            if p.is_abstract() || p.problem.is_some() {
                let item = self.paper(title, p);
                self.queue.push_back(item);
                return;
            }
            if p.is_prose() && title.words() >= 2 {
                self.queue.push_back(Item::rejected(
                    title.location(),
                    format!(
                        "the title {:?} is followed by a paragraph of only {} characters (line {}); \
                         an abstract has more than {MIN_ABSTRACT_CHARS}: complete or remove this entry",
                        title.text, p.chars, p.line
                    ),
                ));
                return;
            }
            // The pending paragraph was chrome.
        }
        if p.is_title() || p.problem.is_some() {
            self.pending = Some(p);
            return;
        }
        self.queue.push_back(Item::rejected(
            p.location(),
            "a long paragraph with no title line before it (a second paragraph of the previous \
             abstract? join them, or put the title on its own line above it)",
        ));
    }

    fn paper(&self, title: Para, abstract_para: Para) -> Item {
        let loc = title.location();
        if let Some(problem) = title.problem.or(abstract_para.problem) {
            return Item::rejected(loc, problem);
        }
        let mut paper = Paper::new(PaperId::local_from_title(&title.text), title.text, self.date);
        paper.abstract_text = abstract_para.text;
        finish(paper, || loc)
    }

    fn finish_input(&mut self) {
        if let Some(title) = self.pending.take()
            && (title.words() >= 4 || title.problem.is_some())
        {
            let reason = title.problem.clone().unwrap_or_else(|| {
                format!("the title {:?} has no abstract after it (the text ends here: was it cut off?)", title.text)
            });
            self.queue.push_back(Item::rejected(title.location(), reason));
        }
    }
}

impl Iterator for Listing {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.eof {
                self.finish_input();
                return self.queue.pop_front();
            }
            match self.read_paragraph() {
                Some(p) => self.process(p),
                None => self.finish_input(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn run(text: &str, listed_on: Option<NaiveDate>) -> Vec<Item> {
        let opts = ImportOptions { listed_on, today: NaiveDate::from_ymd_opt(2024, 3, 20).unwrap() };
        let lines = LineReader::new(Box::new(Cursor::new(text.as_bytes().to_vec())), 0);
        Listing::new(lines, opts).collect()
    }

    fn long(word: &str) -> String {
        format!("{word} lorem ipsum ").repeat(20).trim_end().to_string() + "."
    }

    #[test]
    fn chrome_is_ignored_and_day_headers_date_papers() {
        let text = format!(
            "new\n\nSubscribe\n\nMar 11\n\nA Title\n\n{}\n\nMar 12\n\nB Title\nwrapped\n\n{}\n",
            long("alpha"),
            long("beta")
        );
        let items = run(&text, None);
        let papers: Vec<_> = items
            .iter()
            .map(|i| match i {
                Item::Paper(p) => (p.title.clone(), p.listed_on.to_string()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            papers,
            vec![
                ("A Title".to_string(), "2024-03-11".to_string()),
                ("B Title wrapped".to_string(), "2024-03-12".to_string())
            ]
        );
        let fixed = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        assert!(run(&text, Some(fixed)).iter().all(|i| matches!(i, Item::Paper(p) if p.listed_on == fixed)));
    }

    #[test]
    fn short_abstracts_and_orphan_paragraphs_are_rejected() {
        let text = format!(
            "Good Title\n\n{}\n\nShort One Title\n\nThis abstract is far too short to be the real abstract of a paper.\n\n{}\n\nLast Good Title\n\n{}\n\nA trailing title that lost its abstract\n",
            long("a"),
            long("orphan"),
            long("c")
        );
        let items = run(&text, None);
        let kinds: Vec<String> = items
            .iter()
            .map(|i| match i {
                Item::Paper(p) => format!("paper {}", p.title),
                Item::Rejected(r) => format!("rejected {}", r.location),
                Item::Skipped(r) => format!("skipped {}", r.location),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "paper Good Title",
                "rejected paragraph at line 5",
                "rejected paragraph at line 9",
                "paper Last Good Title",
                "rejected paragraph at line 15",
            ]
        );
        let Item::Rejected(r) = &items[1] else { unreachable!() };
        assert!(r.reason.contains("only 66 characters"), "{}", r.reason);
    }

    #[test]
    fn bad_utf8_spoils_only_its_paper() {
        let mut bytes = format!("T1\n\n{}\n\nT2\n\n", long("x")).into_bytes();
        bytes.extend_from_slice(b"caf\xe9 ");
        bytes.extend_from_slice(long("y").as_bytes());
        bytes.extend_from_slice(format!("\n\nT3\n\n{}\n", long("z")).as_bytes());
        let opts = ImportOptions { listed_on: None, today: NaiveDate::from_ymd_opt(2024, 3, 20).unwrap() };
        let items: Vec<Item> = Listing::new(LineReader::new(Box::new(Cursor::new(bytes)), 0), opts).collect();
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[0], Item::Paper(p) if p.title == "T1"));
        assert!(
            matches!(&items[1], Item::Rejected(r) if r.location == "paragraph at line 5" && r.reason.contains("line 7: invalid UTF-8"))
        );
        assert!(matches!(&items[2], Item::Paper(p) if p.title == "T3"));
    }
}
