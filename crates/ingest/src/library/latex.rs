//! LaTeX in BibTeX values to plain text: accents (`\"{o}`, `{\'e}`, `\c{c}`),
//! escapes (`\&`, `\%`), special letters (`\ss`, `\o`), dashes (`--`, `---`),
//! quotes, ties and math `$` removed, formatting commands (`\emph{…}`)
//! reduced to their argument, and protective braces (`{{Title}}`) dropped.

/// Decodes one value (its outer delimiters already removed).
pub(crate) fn decode(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => i = command(&chars, i + 1, &mut out),
            '{' | '}' | '$' => i += 1,
            '~' => {
                out.push(' ');
                i += 1;
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                if chars.get(i + 2) == Some(&'-') {
                    out.push('—');
                    i += 3;
                } else {
                    out.push('–');
                    i += 2;
                }
            }
            '`' if chars.get(i + 1) == Some(&'`') => {
                out.push('“');
                i += 2;
            }
            '\'' if chars.get(i + 1) == Some(&'\'') => {
                out.push('”');
                i += 2;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    paperboy_core::text::normalize_ws(&out)
}

/// Handles the command starting after a backslash at `i`; returns the index after it.
fn command(chars: &[char], i: usize, out: &mut String) -> usize {
    let Some(&c) = chars.get(i) else {
        return i;
    };
    if "'`^\"~=.".contains(c) {
        let (base, next) = accent_argument(chars, i + 1);
        out.push_str(&compose(c, base));
        return next;
    }
    if !c.is_ascii_alphabetic() {
        match c {
            '\\' | ' ' | ',' | ';' | ':' | '!' => out.push(' '),
            '-' | '/' => {}
            _ => out.push(c),
        }
        return i + 1;
    }
    let mut end = i;
    while end < chars.len() && chars[end].is_ascii_alphabetic() {
        end += 1;
    }
    let name: String = chars[i..end].iter().collect();
    // TeX swallows the spaces after a command word.
    let mut after = end;
    while after < chars.len() && chars[after] == ' ' {
        after += 1;
    }
    if name.len() == 1 && "cvuHkrdb".contains(name.as_str()) {
        let accent = name.chars().next().unwrap_or('c');
        let (base, next) = accent_argument(chars, after);
        out.push_str(&compose(accent, base));
        return next;
    }
    if let Some(s) = named(&name) {
        out.push_str(s);
        // `\o{}` and `{\ss}` leave their braces to the main loop.
        return after;
    }
    // Formatting and unknown commands: drop the name, keep the argument.
    after
}

/// The letter an accent applies to: `{o}`, `{\i}`, `o`, or `\i`.
fn accent_argument(chars: &[char], mut i: usize) -> (Option<char>, usize) {
    if chars.get(i) == Some(&'{') {
        let mut depth = 0usize;
        let start = i;
        while i < chars.len() {
            match chars[i] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        // The letter inside (`{o}`, `{\\i}`), read without recursing, so
        // deeply nested braces cannot exhaust the stack.
        let inner = &chars[start + 1..i.min(chars.len())];
        let base = first_letter(inner);
        return (base.map(dotless), (i + 1).min(chars.len()));
    }
    if chars.get(i) == Some(&'\\') {
        let mut end = i + 1;
        while end < chars.len() && chars[end].is_ascii_alphabetic() {
            end += 1;
        }
        let name: String = chars[i + 1..end].iter().collect();
        let base = named(&name).and_then(|s| s.chars().next()).map(dotless);
        return (base, end);
    }
    match chars.get(i) {
        Some(&c) => (Some(c), i + 1),
        None => (None, i),
    }
}

/// The letter an accent's braced argument holds, skipping braces, spaces
/// and inner accents (`{\\'{e}}`); `\\i` and other letter commands by name.
fn first_letter(inner: &[char]) -> Option<char> {
    let mut k = 0;
    while k < inner.len() {
        match inner[k] {
            '{' | '}' | ' ' => k += 1,
            '\\' => {
                let name: String = inner[k + 1..].iter().take_while(|c| c.is_ascii_alphabetic()).collect();
                // An accent (`\\'`, `\\c`) on the letter: skip to the letter.
                if name.is_empty() || (name.len() == 1 && "cvuHkrdb".contains(name.as_str())) {
                    k += 2;
                } else {
                    return named(&name).and_then(|s| s.chars().next());
                }
            }
            c => return Some(c),
        }
    }
    None
}

fn dotless(c: char) -> char {
    match c {
        'ı' => 'i',
        'ȷ' => 'j',
        c => c,
    }
}

/// Special letters and symbols by command name.
fn named(name: &str) -> Option<&'static str> {
    Some(match name {
        "aa" => "å",
        "AA" => "Å",
        "o" => "ø",
        "O" => "Ø",
        "ss" => "ß",
        "ae" => "æ",
        "AE" => "Æ",
        "oe" => "œ",
        "OE" => "Œ",
        "l" => "ł",
        "L" => "Ł",
        "i" => "ı",
        "j" => "ȷ",
        "dh" => "ð",
        "DH" => "Ð",
        "th" => "þ",
        "TH" => "Þ",
        "textendash" => "–",
        "textemdash" => "—",
        "textquoteright" | "rq" => "’",
        "textquoteleft" | "lq" => "‘",
        "ldots" | "dots" | "textellipsis" => "…",
        "textregistered" => "®",
        "texttrademark" => "™",
        "copyright" | "textcopyright" => "©",
        "S" => "§",
        "P" => "¶",
        "LaTeX" => "LaTeX",
        "TeX" => "TeX",
        "BibTeX" => "BibTeX",
        "times" => "×",
        "cdot" => "·",
        "pm" => "±",
        "leq" | "le" => "≤",
        "geq" | "ge" => "≥",
        "neq" | "ne" => "≠",
        "approx" => "≈",
        "infty" => "∞",
        "to" | "rightarrow" => "→",
        "alpha" => "α",
        "beta" => "β",
        "gamma" => "γ",
        "delta" => "δ",
        "Delta" => "Δ",
        "epsilon" | "varepsilon" => "ε",
        "eta" => "η",
        "theta" => "θ",
        "kappa" => "κ",
        "lambda" => "λ",
        "mu" => "μ",
        "pi" => "π",
        "rho" => "ρ",
        "sigma" => "σ",
        "Sigma" => "Σ",
        "tau" => "τ",
        "phi" | "varphi" => "φ",
        "chi" => "χ",
        "psi" => "ψ",
        "omega" => "ω",
        "Omega" => "Ω",
        _ => return None,
    })
}

/// Precomposed letters by accent: pairs of base and accented letter.
fn table(accent: char) -> &'static str {
    match accent {
        '\'' => "aáeéiíoóuúyýAÁEÉIÍOÓUÚYÝcćCĆnńNŃsśSŚzźZŹlĺLĹrŕRŔgǵ",
        '`' => "aàeèiìoòuùAÀEÈIÌOÒUÙnǹ",
        '^' => "aâeêiîoôuûAÂEÊIÎOÔUÛcĉgĝhĥjĵsŝwŵyŷ",
        '"' => "aäeëiïoöuüyÿAÄEËIÏOÖUÜYŸ",
        '~' => "aãnñoõAÃNÑOÕiĩuũ",
        '=' => "aāeēiīoōuūAĀEĒIĪOŌUŪ",
        '.' => "zżZŻeėEĖcċCĊgġIİ",
        'c' => "cçCçsşSŞtţTŢgģkķlļnņrŗ",
        'v' => "cčCČsšSŠzžZŽrřRŘeěEĚnňNŇdďDĎtťTŤ",
        'u' => "aăAĂgğGĞuŭoŏeĕ",
        'H' => "oőOŐuűUŰ",
        'k' => "aąAĄeęEĘiįuų",
        'r' => "aåAÅuůUŮ",
        _ => "",
    }
}

fn combining(accent: char) -> Option<char> {
    Some(match accent {
        '\'' => '\u{301}',
        '`' => '\u{300}',
        '^' => '\u{302}',
        '"' => '\u{308}',
        '~' => '\u{303}',
        '=' => '\u{304}',
        '.' => '\u{307}',
        'c' => '\u{327}',
        'v' => '\u{30c}',
        'u' => '\u{306}',
        'H' => '\u{30b}',
        'k' => '\u{328}',
        'r' => '\u{30a}',
        'd' => '\u{323}',
        'b' => '\u{331}',
        _ => return None,
    })
}

fn compose(accent: char, base: Option<char>) -> String {
    let Some(base) = base else {
        return String::new();
    };
    let pairs: Vec<char> = table(accent).chars().collect();
    if let Some(pair) = pairs.chunks(2).find(|p| p[0] == base) {
        return pair.get(1).copied().unwrap_or(base).to_string();
    }
    match combining(accent) {
        Some(mark) if base.is_alphabetic() => format!("{base}{mark}"),
        _ => base.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn accents_escapes_and_braces() {
        assert_eq!(decode(r#"Schr\"{o}dinger"#), "Schrödinger");
        assert_eq!(decode(r#"{\'e}cole {\`a} Z{\"u}rich"#), "école à Zürich");
        assert_eq!(decode(r#"Fran\c{c}ois \v{S}imon Erd\H{o}s"#), "François Šimon Erdős");
        assert_eq!(decode(r#"Ca\~{n}ete Mu\~noz {\o}stergaard Stra{\ss}e"#), "Cañete Muñoz østergaard Straße");
        assert_eq!(decode(r#"na{\"\i}ve \'{\i}ndice"#), "naïve índice");
        assert_eq!(
            decode(r#"{{BERT}}: Pre-training \& fine-tuning, 10--20\% faster --- really"#),
            "BERT: Pre-training & fine-tuning, 10–20% faster — really"
        );
        assert_eq!(decode(r#"The \emph{Transformer} on $\alpha$-{GPU}s~now"#), "The Transformer on α-GPUs now");
        assert_eq!(decode(r#"a \{literal\} brace"#), "a {literal} brace");
        assert_eq!(decode("  spread\n   over\tlines "), "spread over lines");
        assert_eq!(decode(r#"\x{q}\\ dangling\"#), "q dangling");
    }
}
