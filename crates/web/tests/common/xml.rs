//! Enough XML to check feeds: a strict parser into a small tree ([`Node`])
//! and the checks every Atom and RSS feed must pass.

use chrono::DateTime;

/// A parsed XML element: enough of a DOM to check feeds.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    pub fn all(&self, name: &str) -> Vec<&Node> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    pub fn one(&self, name: &str) -> &Node {
        let found = self.all(name);
        assert_eq!(found.len(), 1, "exactly one <{name}> in <{}>", self.name);
        found[0]
    }
}

/// Parses `xml` strictly (balanced, matching tags, known entities, one
/// root) into a [`Node`] tree.
pub fn parse_xml(xml: &str) -> Node {
    use quick_xml::events::{BytesStart, Event};
    fn node(e: &BytesStart<'_>) -> Node {
        Node {
            name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
            attrs: e
                .attributes()
                .map(|a| {
                    let a = a.expect("well-formed attribute");
                    (
                        String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                        a.unescape_value().expect("known entities").into_owned(),
                    )
                })
                .collect(),
            ..Node::default()
        }
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(node(&e)),
            Event::Empty(e) => {
                let n = node(&e);
                stack.last_mut().unwrap().children.push(n);
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().expect("balanced tags").children.push(done);
            }
            Event::Text(t) => {
                let text = t.unescape().expect("known entities");
                stack.last_mut().unwrap().text.push_str(&text);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) | Event::CData(_) => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut doc = stack.pop().unwrap();
    assert_eq!(doc.children.len(), 1, "one root element");
    doc.children.pop().unwrap()
}

pub fn check_atom(xml: &str, base: &str, self_path: &str) -> Node {
    let feed = parse_xml(xml);
    assert_eq!(feed.name, "feed");
    assert_eq!(feed.attr("xmlns"), Some("http://www.w3.org/2005/Atom"));
    assert!(!feed.one("id").text.is_empty());
    assert!(feed.one("title").text.starts_with("Paperboy: "));
    DateTime::parse_from_rfc3339(&feed.one("updated").text).expect("feed updated is RFC 3339");
    let links = feed.all("link");
    let me = links.iter().find(|l| l.attr("rel") == Some("self")).expect("rel=self");
    assert_eq!(me.attr("href").unwrap(), format!("{base}{self_path}"));
    assert!(!feed.one("author").one("name").text.is_empty());
    for entry in feed.all("entry") {
        assert!(!entry.one("id").text.is_empty());
        assert!(!entry.one("title").text.is_empty());
        DateTime::parse_from_rfc3339(&entry.one("updated").text).expect("entry updated");
        let alt = entry.all("link").into_iter().find(|l| l.attr("rel") == Some("alternate")).expect("rel=alternate");
        assert!(alt.attr("href").unwrap().starts_with(&format!("{base}/papers/")));
        assert!(!entry.all("author").is_empty());
        for a in entry.all("author") {
            assert!(!a.one("name").text.is_empty());
        }
        entry.one("summary");
    }
    feed
}

pub fn check_rss(xml: &str, base: &str, self_path: &str) -> Node {
    let rss = parse_xml(xml);
    assert_eq!(rss.name, "rss");
    assert_eq!(rss.attr("version"), Some("2.0"));
    let channel = rss.one("channel");
    assert!(channel.one("title").text.starts_with("Paperboy: "));
    assert!(channel.one("link").text.starts_with(base));
    assert!(!channel.one("description").text.is_empty());
    let me = channel.one("atom:link");
    assert_eq!(me.attr("rel"), Some("self"));
    assert_eq!(me.attr("href").unwrap(), format!("{base}{self_path}"));
    for item in channel.all("item") {
        assert!(!item.one("title").text.is_empty());
        let link = &item.one("link").text;
        assert!(link.starts_with(&format!("{base}/papers/")));
        let guid = item.one("guid");
        assert_eq!(guid.attr("isPermaLink"), Some("true"));
        assert_eq!(&guid.text, link);
        item.one("description");
        DateTime::parse_from_rfc2822(&item.one("pubDate").text).expect("pubDate is RFC 2822");
    }
    rss
}
