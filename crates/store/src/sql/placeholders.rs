//! The one placeholder rewrite: the store's statements are written once with
//! SQLite's `?` / `?N` placeholders, and PostgreSQL runs them with `$N`.
//!
//! Why rewrite rather than write `$N` everywhere (which sqlx's SQLite driver
//! also accepts): SQLite looks a numbered parameter's name up by a linear
//! scan, so a bulk insert of 2,000 numbered values costs quadratic time per
//! statement (measured: 40 rows of `?NNN` ran at half the speed of plain
//! `?`). Plain `?` keeps SQLite's hot statements fast, and PostgreSQL pays
//! one pass over the text (once per process for constant statements; see
//! `exec::Query`).

/// Rewrites the placeholders of portable SQL for PostgreSQL: `?N` becomes
/// `$N`, and the plain `?`s of a statement are numbered from 1 in order (a
/// statement uses one kind or the other). A `?` inside a `'string'`, a
/// `"quoted identifier"`, a `-- comment` or a `$$ dollar-quoted body $$`
/// (also `$tag$ … $tag$`) is left alone.
pub(crate) fn numbered(sql: &str) -> String {
    use std::fmt::Write;

    let mut out = String::with_capacity(sql.len() + 16);
    let mut next = 0usize;
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        let skipped = match c {
            '\'' => quoted(rest, '\''),
            '"' => quoted(rest, '"'),
            '-' if rest.starts_with("--") => rest.find('\n').map_or(rest.len(), |i| i + 1),
            '$' => dollar_quoted(rest).unwrap_or(1),
            '?' => {
                out.push('$');
                let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
                if digits > 0 {
                    out.push_str(&rest[1..=digits]);
                } else {
                    next += 1;
                    // Writing to a String cannot fail.
                    let _ = write!(out, "{next}");
                }
                rest = &rest[1 + digits..];
                continue;
            }
            _ => c.len_utf8(),
        };
        out.push_str(&rest[..skipped]);
        rest = &rest[skipped..];
    }
    out
}

/// The length of the quoted text at the start of `s` (opened by `quote`,
/// closed by the next one; a doubled quote is an escaped one and simply
/// closes and reopens), or all of `s` when it is never closed.
fn quoted(s: &str, quote: char) -> usize {
    s[1..].find(quote).map_or(s.len(), |i| i + 2)
}

/// The length of a dollar-quoted string at the start of `s` (`$$ … $$` or
/// `$tag$ … $tag$`), or `None` when `s` does not start one.
fn dollar_quoted(s: &str) -> Option<usize> {
    let tag_len = s[1..].find('$')? + 2;
    let tag = &s[..tag_len];
    let name = &tag[1..tag_len - 1];
    if name.starts_with(|c: char| c.is_ascii_digit()) || !name.chars().all(|c| c == '_' || c.is_alphanumeric()) {
        return None;
    }
    let body = &s[tag_len..];
    Some(body.find(tag).map_or(s.len(), |i| tag_len + i + tag_len))
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(numbered("SELECT ? , ?, ?"), "SELECT $1 , $2, $3");
        assert_eq!(numbered("WHERE a = ?2 AND b = ?1 LIMIT ?12"), "WHERE a = $2 AND b = $1 LIMIT $12");
        assert_eq!(numbered("x LIKE ? ESCAPE '\\' AND y = '?'"), "x LIKE $1 ESCAPE '\\' AND y = '?'");
    }

    #[test]
    fn strings_identifiers_comments_and_dollar_quotes_are_left_alone() {
        assert_eq!(numbered("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1");
        assert_eq!(numbered(r#"SELECT "odd?name" FROM t WHERE a = ?"#), r#"SELECT "odd?name" FROM t WHERE a = $1"#);
        assert_eq!(numbered("SELECT ? -- why? because\n, ?"), "SELECT $1 -- why? because\n, $2");
        assert_eq!(numbered("SELECT $$ a ? b $$, ?"), "SELECT $$ a ? b $$, $1");
        assert_eq!(numbered("SELECT $fn$ ? $fn$ || ?"), "SELECT $fn$ ? $fn$ || $1");
        assert_eq!(numbered("SELECT 1 - ? -- x"), "SELECT 1 - $1 -- x");
        assert_eq!(numbered("SELECT 'é?' || ?"), "SELECT 'é?' || $1");
        assert_eq!(numbered("SELECT $1 || ?2"), "SELECT $1 || $2");
    }

    #[test]
    fn unterminated_quotes_swallow_the_rest() {
        assert_eq!(numbered("SELECT 'open ?"), "SELECT 'open ?");
        assert_eq!(numbered("SELECT ? -- ?"), "SELECT $1 -- ?");
    }
}
