//! Text → [`Module`]: logical lines from `lines.rs`, each parsed by the pest
//! grammar, assembled into blocks by indentation. Unsupported Python is
//! reported with what PxL offers instead.

use std::rc::Rc;

use pest::iterators::Pair;
use pest::Parser as _;

use crate::ast::*;
use crate::diag::{Diagnostic, Span};
use crate::lines::{self, LogicalLine};

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct PxlGrammar;

/// Parse a whole script.
pub fn parse(src: &str) -> Result<Module, Diagnostic> {
    let split = lines::split(src)?;
    let mut pos = 0;
    let body = parse_block(src, &split.lines, &mut pos, 0)?;
    if let Some(line) = split.lines.get(pos) {
        return Err(Diagnostic::new(
            "syntax",
            line.span,
            "unexpected indentation",
        ));
    }
    Ok(Module {
        body,
        flags: split.flags,
    })
}

/// Parse one expression (used for REPL completion and argument values).
pub fn parse_expr(src: &str) -> Result<Expr, Diagnostic> {
    let module = parse(src)?;
    match module.body.as_slice() {
        [Stmt::Expr(e)] => Ok(e.clone()),
        _ => Err(Diagnostic::new(
            "syntax",
            Span::new(0, src.len()),
            "expected a single expression",
        )),
    }
}

fn parse_block(
    src: &str,
    lines: &[LogicalLine],
    pos: &mut usize,
    indent: usize,
) -> Result<Vec<Stmt>, Diagnostic> {
    let mut body = Vec::new();
    while let Some(line) = lines.get(*pos) {
        if line.indent < indent {
            break;
        }
        if line.indent > indent {
            return Err(
                Diagnostic::new("syntax", line.span, "unexpected indentation")
                    .with_hint("only the body of a def is indented"),
            );
        }
        *pos += 1;
        let text = &src[line.span.start..line.span.end];
        check_unsupported_statement(text, line.span)?;
        let pair = parse_line(text, line.span.start)?;
        match pair.as_rule() {
            Rule::def_header => {
                let header = def_header(pair, line.span.start)?;
                let body_indent = match lines.get(*pos) {
                    Some(next) if next.indent > indent => next.indent,
                    _ => {
                        return Err(Diagnostic::new(
                            "syntax",
                            line.span,
                            format!("def {} has no indented body", header.0),
                        )
                        .with_hint("put the body on the following lines, indented"))
                    }
                };
                let mut fbody = parse_block(src, lines, pos, body_indent)?;
                let doc = match fbody.first() {
                    Some(Stmt::Expr(Expr {
                        kind: ExprKind::Str(s),
                        ..
                    })) => Some(s.clone()),
                    _ => None,
                };
                if doc.is_some() {
                    fbody.remove(0);
                }
                body.push(Stmt::Def(Rc::new(FuncDef {
                    name: header.0,
                    params: header.1,
                    body: fbody,
                    doc,
                    span: line.span,
                })));
            }
            _ => body.push(statement(pair, line.span.start)?),
        }
    }
    Ok(body)
}

/// Python statements PxL does not have, recognised by their first word so
/// the message can say what to do instead.
fn check_unsupported_statement(text: &str, span: Span) -> Result<(), Diagnostic> {
    let first = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    let what = match first {
        "for" | "while" => Some((
            "loops are not supported in PxL",
            "operate on whole dataframes: filter with df[cond], aggregate with groupby().agg()",
        )),
        "if" | "elif" | "else" => Some((
            "if statements are not supported in PxL",
            "use px.select(cond, a, b) for per-row choices, df[cond] to filter",
        )),
        "class" => Some(("classes are not supported in PxL", "use def functions")),
        "try" | "except" | "finally" | "raise" => Some((
            "exceptions are not supported in PxL",
            "a script either compiles or reports an error",
        )),
        "with" => Some((
            "with statements are not supported in PxL",
            "remove the with block",
        )),
        "lambda" => Some(("lambda is not supported in PxL", "use a def function")),
        "global" | "nonlocal" | "del" | "assert" | "yield" | "async" | "await" => Some((
            "this Python statement is not supported in PxL",
            "PxL supports assignments, expressions, def, return and imports",
        )),
        _ => None,
    };
    if let Some((msg, hint)) = what {
        let kw_span = Span::new(span.start, span.start + first.len());
        return Err(
            Diagnostic::new("unsupported", kw_span, format!("'{first}': {msg}")).with_hint(hint),
        );
    }
    for op in ["+=", "-=", "*=", "/=", "%="] {
        if let Some(at) = find_outside_strings(text, op) {
            return Err(Diagnostic::new(
                "unsupported",
                Span::new(span.start + at, span.start + at + 2),
                format!("augmented assignment '{op}' is not supported in PxL"),
            )
            .with_hint(format!("write it out: x = x {} value", &op[..1])));
        }
    }
    Ok(())
}

fn find_outside_strings(text: &str, needle: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'\'' || b == b'"' {
                    quote = Some(b);
                } else if b == b'#' {
                    return None;
                } else if bytes[i..].starts_with(needle.as_bytes()) {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

fn parse_line(text: &str, offset: usize) -> Result<Pair<'_, Rule>, Diagnostic> {
    match PxlGrammar::parse(Rule::line, text) {
        Ok(mut pairs) => {
            let line = pairs.next().expect("pest returns the line rule");
            Ok(line.into_inner().next().expect("line has a statement"))
        }
        Err(err) => Err(syntax_error(text, offset, err)),
    }
}

fn syntax_error(text: &str, offset: usize, err: pest::error::Error<Rule>) -> Diagnostic {
    let at = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let rest = &text[at.min(text.len())..];
    let found: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(12)
        .collect();
    let span = Span::new(offset + at, offset + at + found.len().max(1));
    let (message, hint) = if found.is_empty() {
        ("unexpected end of statement".to_string(), None)
    } else if rest.starts_with("f'") || rest.starts_with("f\"") {
        (
            "f-strings are not supported in PxL".to_string(),
            Some("concatenate with + and px.itoa(...) instead"),
        )
    } else if rest.starts_with('[') && text[..at].trim_end().ends_with('[') {
        ("unexpected '['".to_string(), None)
    } else if (rest.starts_with("for ") || rest.starts_with("if ")) && text[..at].contains('[') {
        (
            "comprehensions are not supported in PxL".to_string(),
            Some("write the list out, or operate on whole columns"),
        )
    } else if rest.starts_with(':') && text[..at].contains('[') {
        (
            "slices are not supported in PxL".to_string(),
            Some("use df.head(n) or px.substring(s, pos, length)"),
        )
    } else if cmp_chain(text, at) {
        (
            "chained comparisons are not supported in PxL".to_string(),
            Some("combine two comparisons with 'and'"),
        )
    } else if rest.starts_with(',') && text[..at].contains('=') && !text[..at].contains('(') {
        (
            "assigning several targets at once is not supported in PxL".to_string(),
            Some("assign one name per statement"),
        )
    } else {
        (format!("invalid syntax at '{found}'"), None)
    };
    let mut d = Diagnostic::new("syntax", span, message);
    if let Some(h) = hint {
        d = d.with_hint(h);
    }
    d
}

fn cmp_chain(text: &str, at: usize) -> bool {
    let rest = text[at..].trim_start();
    ["<", ">", "==", "!="].iter().any(|op| rest.starts_with(op))
}

fn span_of(pair: &Pair<'_, Rule>, offset: usize) -> Span {
    let s = pair.as_span();
    Span::new(offset + s.start(), offset + s.end())
}

type Header = (String, Vec<Param>);

fn def_header(pair: Pair<'_, Rule>, offset: usize) -> Result<Header, Diagnostic> {
    let mut inner = pair.into_inner();
    let name = inner.next().expect("def has a name").as_str().to_string();
    let mut params = Vec::new();
    for p in inner {
        if p.as_rule() == Rule::params {
            for param in p.into_inner() {
                let span = span_of(&param, offset);
                let mut pi = param.into_inner();
                let pname = pi.next().expect("param name").as_str().to_string();
                let annotation = pi.next().map(|a| expr(a, offset)).transpose()?;
                params.push(Param {
                    name: pname,
                    annotation,
                    span,
                });
            }
        }
    }
    Ok((name, params))
}

fn statement(pair: Pair<'_, Rule>, offset: usize) -> Result<Stmt, Diagnostic> {
    let span = span_of(&pair, offset);
    Ok(match pair.as_rule() {
        Rule::import => {
            let mut inner = pair.into_inner();
            let module = inner.next().expect("module").as_str().to_string();
            let alias = inner.next().map(|a| a.as_str().to_string());
            Stmt::Import {
                module,
                alias,
                span,
            }
        }
        Rule::import_from => {
            let mut inner = pair.into_inner();
            let module = inner.next().expect("module").as_str().to_string();
            let names = inner
                .map(|n| {
                    let mut ni = n.into_inner();
                    let name = ni.next().expect("name").as_str().to_string();
                    (name, ni.next().map(|a| a.as_str().to_string()))
                })
                .collect();
            Stmt::FromImport {
                module,
                names,
                span,
            }
        }
        Rule::return_stmt => Stmt::Return {
            value: pair
                .into_inner()
                .next()
                .map(|e| expr(e, offset))
                .transpose()?,
            span,
        },
        Rule::pass_stmt => Stmt::Pass,
        Rule::assign => {
            let mut inner = pair.into_inner();
            let target_pair = inner.next().expect("target");
            let target = expr(target_pair.into_inner().next().expect("postfix"), offset)?;
            match &target.kind {
                ExprKind::Name(_) | ExprKind::Attribute(..) | ExprKind::Subscript(..) => {}
                _ => {
                    return Err(Diagnostic::new(
                        "syntax",
                        target.span,
                        "cannot assign to this expression",
                    )
                    .with_hint("assign to a name, df.column or df['column']"))
                }
            }
            let value = expr(inner.next().expect("value"), offset)?;
            Stmt::Assign {
                target,
                value,
                span,
            }
        }
        Rule::expr_stmt => Stmt::Expr(expr(pair.into_inner().next().expect("expr"), offset)?),
        r => unreachable!("statement rule {r:?}"),
    })
}

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

/// Left-associative chain of binary operators: `a op b op c`.
fn binary_chain(pair: Pair<'_, Rule>, offset: usize) -> Result<Expr, Diagnostic> {
    let mut inner = pair.into_inner();
    let mut left = expr(inner.next().expect("operand"), offset)?;
    while let Some(op) = inner.next() {
        let right = expr(inner.next().expect("right operand"), offset)?;
        let span = left.span.join(right.span);
        let op_text = op.as_str().split_whitespace().collect::<Vec<_>>().join(" ");
        let bop = match op_text.as_str() {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "%" => BinOp::Mod,
            "==" => BinOp::Eq,
            "!=" => BinOp::Ne,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "and" => BinOp::And,
            "or" => BinOp::Or,
            other => return Ok(Expr {
                kind: ExprKind::Unsupported(match other {
                    "in" | "not in" => {
                        "the 'in' operator; use px.equals_any(value, [..]) or px.contains(s, sub)"
                    }
                    _ => "the 'is' operator; compare with ==",
                }),
                span: span_of(&op, offset),
            }),
        };
        left = Expr {
            kind: ExprKind::Binary(bop, boxed(left), boxed(right)),
            span,
        };
    }
    Ok(left)
}

fn expr(pair: Pair<'_, Rule>, offset: usize) -> Result<Expr, Diagnostic> {
    let span = span_of(&pair, offset);
    let kind = match pair.as_rule() {
        Rule::expr => return expr(pair.into_inner().next().expect("expr"), offset),
        Rule::or_expr | Rule::and_expr | Rule::comparison | Rule::arith | Rule::term => {
            return binary_chain(pair, offset)
        }
        Rule::not_expr | Rule::unary => {
            let mut inner = pair.into_inner();
            let first = inner.next().expect("operand");
            match first.as_rule() {
                Rule::not_op | Rule::unary_op => {
                    let op = match first.as_str() {
                        "-" => UnaryOp::Neg,
                        "+" => UnaryOp::Pos,
                        _ => UnaryOp::Not,
                    };
                    let operand = expr(inner.next().expect("operand"), offset)?;
                    ExprKind::Unary(op, boxed(operand))
                }
                _ => return expr(first, offset),
            }
        }
        Rule::postfix => {
            let mut inner = pair.into_inner();
            let mut e = expr(inner.next().expect("atom"), offset)?;
            for trailer in inner {
                let t = trailer.into_inner().next().expect("trailer");
                let tspan = e.span.join(span_of(&t, offset));
                let kind = match t.as_rule() {
                    Rule::attribute => {
                        let name = t.into_inner().next().expect("attr").as_str().to_string();
                        ExprKind::Attribute(boxed(e), name)
                    }
                    Rule::subscript => {
                        let items = t.into_inner().next().expect("items");
                        let had_comma = items.as_str().contains(',');
                        let mut exprs = items
                            .into_inner()
                            .map(|i| expr(i, offset))
                            .collect::<Result<Vec<_>, _>>()?;
                        let index = if exprs.len() == 1 && !top_level_comma(&exprs[0], had_comma) {
                            exprs.remove(0)
                        } else {
                            let s = exprs[0].span.join(exprs[exprs.len() - 1].span);
                            Expr {
                                kind: ExprKind::Tuple(exprs),
                                span: s,
                            }
                        };
                        ExprKind::Subscript(boxed(e), boxed(index))
                    }
                    Rule::call => {
                        let mut args = Vec::new();
                        let mut kwargs: Vec<Kwarg> = Vec::new();
                        if let Some(arguments) = t.into_inner().next() {
                            for a in arguments.into_inner() {
                                if a.as_rule() == Rule::kwarg {
                                    let kspan = span_of(&a, offset);
                                    let mut ki = a.into_inner();
                                    let name = ki.next().expect("kw").as_str().to_string();
                                    let value = expr(ki.next().expect("kw value"), offset)?;
                                    if kwargs.iter().any(|k| k.name == name) {
                                        return Err(Diagnostic::new(
                                            "syntax",
                                            kspan,
                                            format!("keyword argument '{name}' repeated"),
                                        ));
                                    }
                                    kwargs.push(Kwarg {
                                        name,
                                        value,
                                        span: kspan,
                                    });
                                } else {
                                    let v = expr(a, offset)?;
                                    if !kwargs.is_empty() {
                                        return Err(Diagnostic::new(
                                            "syntax",
                                            v.span,
                                            "positional argument follows keyword argument",
                                        ));
                                    }
                                    args.push(v);
                                }
                            }
                        }
                        ExprKind::Call {
                            func: boxed(e),
                            args,
                            kwargs,
                        }
                    }
                    r => unreachable!("trailer {r:?}"),
                };
                e = Expr { kind, span: tspan };
            }
            return Ok(e);
        }
        Rule::paren => {
            let mut has_comma = false;
            let mut items = Vec::new();
            for p in pair.into_inner() {
                if p.as_rule() == Rule::tuple_comma {
                    has_comma = true;
                } else {
                    items.push(expr(p, offset)?);
                }
            }
            if items.len() == 1 && !has_comma {
                let mut e = items.remove(0);
                e.span = span;
                return Ok(e);
            }
            ExprKind::Tuple(items)
        }
        Rule::list => ExprKind::List(
            pair.into_inner()
                .map(|p| expr(p, offset))
                .collect::<Result<_, _>>()?,
        ),
        Rule::dict => ExprKind::Dict(
            pair.into_inner()
                .map(|item| {
                    let mut kv = item.into_inner();
                    let k = expr(kv.next().expect("key"), offset)?;
                    let v = expr(kv.next().expect("value"), offset)?;
                    Ok((k, v))
                })
                .collect::<Result<_, Diagnostic>>()?,
        ),
        Rule::keyword_const => match pair.as_str().trim() {
            "True" => ExprKind::Bool(true),
            "False" => ExprKind::Bool(false),
            _ => ExprKind::None,
        },
        Rule::int => {
            let text = pair.as_str().replace('_', "");
            let value = if let Some(hex) = text.strip_prefix("0x") {
                i64::from_str_radix(hex, 16)
            } else {
                text.parse::<i64>()
            };
            ExprKind::Int(value.map_err(|_| {
                Diagnostic::new("syntax", span, "integer literal does not fit in 64 bits")
            })?)
        }
        Rule::float => ExprKind::Float(
            pair.as_str()
                .parse::<f64>()
                .map_err(|_| Diagnostic::new("syntax", span, "malformed number"))?,
        ),
        Rule::string_seq => {
            let mut out = String::new();
            for s in pair.into_inner() {
                out.push_str(&string_value(s, offset)?);
            }
            ExprKind::Str(out)
        }
        Rule::ident => ExprKind::Name(pair.as_str().to_string()),
        r => unreachable!("expression rule {r:?}"),
    };
    Ok(Expr { kind, span })
}

fn top_level_comma(_e: &Expr, had_comma: bool) -> bool {
    // `df['a',]` is a one-element tuple; a comma inside a nested call is not
    // ours, but then the single item is not a bare string either, so
    // treating it as a tuple only matters for string items.
    had_comma && matches!(_e.kind, ExprKind::Str(_))
}

/// The value of one string literal: prefixes, quotes and escapes handled.
fn string_value(pair: Pair<'_, Rule>, offset: usize) -> Result<String, Diagnostic> {
    let span = span_of(&pair, offset);
    let mut raw = false;
    let mut body = "";
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::prefix => raw = p.as_str().eq_ignore_ascii_case("r"),
            Rule::triple_dq | Rule::triple_sq => body = &p.as_str()[3..p.as_str().len() - 3],
            Rule::dq | Rule::sq => body = &p.as_str()[1..p.as_str().len() - 1],
            _ => {}
        }
    }
    if raw {
        return Ok(body.to_string());
    }
    unescape(body).map_err(|m| Diagnostic::new("syntax", span, m))
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\n') => {}
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let v = u8::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\x{hex}"))?;
                out.push(v as char);
            }
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let v = u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad escape \\u{hex}"))?;
                out.push(v);
            }
            // Unknown escapes stay as written, like Python (regexes rely on it).
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_expr(src: &str) -> ExprKind {
        parse_expr(src).unwrap().kind
    }

    #[test]
    fn parses_a_typical_script() {
        let src = r#"
import px

def f(start_time: str, n: int):
    '''Doc.'''
    df = px.DataFrame(table='http_events', start_time=start_time)
    df = df[df.resp_status >= 400]
    df.failure = df.resp_status >= 500
    df['x'] = 1.5 * df.latency / 2
    return df.groupby(['service']).agg(
        n=('latency', px.count)
        p=('latency', px.quantiles)
    )

px.display(f('-5m', 3), 'out')
"#;
        let m = parse(src).unwrap();
        assert_eq!(m.body.len(), 3);
        let Stmt::Def(f) = &m.body[1] else { panic!() };
        assert_eq!(f.name, "f");
        assert_eq!(f.params.len(), 2);
        assert_eq!(f.doc.as_deref(), Some("Doc."));
        assert_eq!(f.body.len(), 5);
    }

    #[test]
    fn strings() {
        assert_eq!(one_expr(r#"'a\'b'"#), ExprKind::Str("a'b".into()));
        assert_eq!(one_expr(r#"r'\d+'"#), ExprKind::Str("\\d+".into()));
        assert_eq!(one_expr("'''x\ny'''"), ExprKind::Str("x\ny".into()));
        assert_eq!(one_expr("'a' 'b'"), ExprKind::Str("ab".into()));
    }

    #[test]
    fn precedence() {
        let ExprKind::Binary(BinOp::Or, l, _) = one_expr("a and b or not c") else {
            panic!()
        };
        assert!(matches!(l.kind, ExprKind::Binary(BinOp::And, ..)));
        let ExprKind::Binary(BinOp::Add, _, r) = one_expr("1 + 2 * 3") else {
            panic!()
        };
        assert!(matches!(r.kind, ExprKind::Binary(BinOp::Mul, ..)));
    }

    #[test]
    fn subscript_forms() {
        assert!(
            matches!(one_expr("df['a', 'b']"), ExprKind::Subscript(_, i) if matches!(i.kind, ExprKind::Tuple(_)))
        );
        assert!(
            matches!(one_expr("df[['a']]"), ExprKind::Subscript(_, i) if matches!(i.kind, ExprKind::List(_)))
        );
        assert!(matches!(one_expr("(1,)"), ExprKind::Tuple(v) if v.len() == 1));
    }

    #[test]
    fn unsupported_constructs_name_the_alternative() {
        let e = parse("for x in y:\n  pass\n").unwrap_err();
        assert_eq!(e.code, "unsupported");
        assert!(e.hint.unwrap().contains("groupby"));
        let e = parse("x += 1\n").unwrap_err();
        assert!(e.message.contains("augmented"));
        let e = parse("x = [a for a in b]\n").unwrap_err();
        assert!(e.message.contains("comprehension"), "{}", e.message);
    }

    #[test]
    fn syntax_error_points_at_the_spot() {
        let e = parse("import px\ndf = px.DataFrame(table='x'))\n").unwrap_err();
        assert_eq!(e.span.start, 38);
    }
}
