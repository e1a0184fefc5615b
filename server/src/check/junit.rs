//! JUnit XML, the report format CI systems read (GitHub Actions reporters,
//! GitLab, Jenkins): one `<testsuite>` of `<testcase>`s, a failing case
//! carrying a `<failure>` and a case that could not run an `<error>`.
//!
//! Written with quick-xml, which escapes text and attribute values; characters
//! XML 1.0 cannot carry at all (most control characters, which captured
//! bodies may hold) are replaced by U+FFFD so the file always parses.

use std::borrow::Cow;
use std::io::Write;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

/// One test case of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    pub name: String,
    pub classname: String,
    pub seconds: f64,
    pub outcome: TestOutcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TestOutcome {
    Passed,
    /// The check ran and found violations: `text` shows them.
    Failure {
        message: String,
        text: String,
    },
    /// The check could not run: `text` is the full diagnostic.
    Error {
        message: String,
        text: String,
    },
}

/// The whole report: a `<testsuites>` root holding one `<testsuite>`.
pub fn render(suite: &str, timestamp: &str, cases: &[TestCase]) -> std::io::Result<Vec<u8>> {
    let failures = cases
        .iter()
        .filter(|c| matches!(c.outcome, TestOutcome::Failure { .. }))
        .count()
        .to_string();
    let errors = cases
        .iter()
        .filter(|c| matches!(c.outcome, TestOutcome::Error { .. }))
        .count()
        .to_string();
    let tests = cases.len().to_string();
    let time = seconds(cases.iter().map(|c| c.seconds).sum());

    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites")
        .with_attributes([
            ("name", suite),
            ("tests", tests.as_str()),
            ("failures", failures.as_str()),
            ("errors", errors.as_str()),
            ("time", time.as_str()),
        ])
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attributes([
                    ("name", suite),
                    ("tests", tests.as_str()),
                    ("failures", failures.as_str()),
                    ("errors", errors.as_str()),
                    ("skipped", "0"),
                    ("time", time.as_str()),
                    ("timestamp", timestamp),
                ])
                .write_inner_content(|w| {
                    for case in cases {
                        write_case(w, case)?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    let mut out = w.into_inner();
    out.write_all(b"\n")?;
    Ok(out)
}

fn write_case<W: Write>(w: &mut Writer<W>, case: &TestCase) -> std::io::Result<()> {
    let name = xml_safe(&case.name);
    let classname = xml_safe(&case.classname);
    let time = seconds(case.seconds);
    let element = w.create_element("testcase").with_attributes([
        ("name", name.as_ref()),
        ("classname", classname.as_ref()),
        ("time", time.as_str()),
    ]);
    let (tag, kind, message, text) = match &case.outcome {
        TestOutcome::Passed => {
            element.write_empty()?;
            return Ok(());
        }
        TestOutcome::Failure { message, text } => ("failure", "CheckFailed", message, text),
        TestOutcome::Error { message, text } => ("error", "ScriptError", message, text),
    };
    let message = xml_safe(message);
    let text = xml_safe(text);
    element.write_inner_content(|w| {
        w.create_element(tag)
            .with_attributes([("message", message.as_ref()), ("type", kind)])
            .write_text_content(BytesText::new(text.as_ref()))?;
        Ok(())
    })?;
    Ok(())
}

fn seconds(s: f64) -> String {
    format!("{s:.3}")
}

/// `text` with every character XML 1.0 forbids replaced by U+FFFD.
pub fn xml_safe(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    if text.chars().all(allowed) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes_and_drops_invalid_characters() {
        let cases = [
            TestCase {
                name: "a<b>&\"c\"".into(),
                classname: "scry.check".into(),
                seconds: 0.0125,
                outcome: TestOutcome::Passed,
            },
            TestCase {
                name: "slow".into(),
                classname: "scry.check".into(),
                seconds: 1.0,
                outcome: TestOutcome::Failure {
                    message: "2 rows in 'out'".into(),
                    text: "body <html> & \u{1} done".into(),
                },
            },
            TestCase {
                name: "broken".into(),
                classname: "scry.check".into(),
                seconds: 0.0,
                outcome: TestOutcome::Error {
                    message: "x.pxl:1:1: bad".into(),
                    text: "x.pxl:1:1: bad\n  ^".into(),
                },
            },
        ];
        let xml = String::from_utf8(render("scry check", "2024-01-01T00:00:00", &cases).unwrap())
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        assert_eq!(root.attribute("tests"), Some("3"));
        assert_eq!(root.attribute("failures"), Some("1"));
        assert_eq!(root.attribute("errors"), Some("1"));
        let tc: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(tc[0].attribute("name"), Some("a<b>&\"c\""));
        assert_eq!(tc[0].attribute("time"), Some("0.013"));
        let failure = tc[1].first_element_child().unwrap();
        assert_eq!(failure.tag_name().name(), "failure");
        assert_eq!(failure.attribute("message"), Some("2 rows in 'out'"));
        assert_eq!(failure.text(), Some("body <html> & \u{FFFD} done"));
        let error = tc[2].first_element_child().unwrap();
        assert_eq!(error.tag_name().name(), "error");
        assert_eq!(error.text(), Some("x.pxl:1:1: bad\n  ^"));
    }
}
