//! Hostile input meets the tree's bounds: nesting past 64 levels, alias bombs, long scalars repeated by aliases, anchors nested to copy themselves, and flow nesting deep enough to overflow a recursive parser. Each must end in a located error, fast and without exhausting the stack; none of these tests times anything, they only have to finish.

use crate::common;

use common::{ours_json, tree};
use regforge::yaml::from_node;
use regforge::yaml::{Limits, parse};

const DEPTH: &str = "nested deeper than 64 levels";

fn bomb_message(limits: Limits) -> String {
    format!(
        "the anchors and aliases here copy past {} nodes; the inventory's YAML is bounded against alias bombs",
        limits.max_nodes
    )
}

#[track_caller]
fn refused_at(text: &str, line_column: (usize, usize), message: &str) {
    let error = tree(text).expect_err("the tree read it");
    assert_eq!(error.message, message);
    assert_eq!(
        (error.mark.line as usize, error.mark.column as usize),
        line_column,
        "{error:?}"
    );
}

fn block_mappings(levels: usize) -> String {
    (0..levels)
        .map(|depth| format!("{}k{depth}:\n", " ".repeat(depth)))
        .collect::<String>()
        + &" ".repeat(levels)
        + "leaf\n"
}

#[test]
fn sixty_four_levels_are_read_and_deserialized() {
    // 64 nested mappings, each a key's value: the last holds a scalar.
    let text = block_mappings(63);
    let node = tree(&text).unwrap().unwrap();
    // Deserializing recurses once per level, here on a test thread's stack.
    let value: serde_json::Value = from_node(&node).unwrap();
    assert_eq!(
        value
            .pointer(&(0..63).map(|d| format!("/k{d}")).collect::<String>())
            .unwrap(),
        "leaf"
    );
    let flow = format!("{}{}", "[".repeat(64), "]".repeat(64));
    assert!(tree(&flow).is_ok());
}

#[test]
fn the_sixty_fifth_level_is_refused_where_it_opens() {
    // The 65th mapping is the value of the 64th key, on line 65.
    refused_at(&block_mappings(65), (65, 65), DEPTH);
    refused_at(&format!("{}x\n", "- ".repeat(65)), (1, 129), DEPTH);
    refused_at(
        &format!("{}{}", "[".repeat(65), "]".repeat(65)),
        (1, 65),
        DEPTH,
    );
    refused_at(&"{a: ".repeat(65), (1, 257), DEPTH);
    // A custom bound is kept, and said.
    let limits = Limits {
        max_depth: 3,
        max_nodes: 100,
    };
    let error = parse("a: {b: [[x]]}", limits).unwrap_err();
    assert_eq!(
        (error.message.as_str(), error.mark.column),
        ("nested deeper than 3 levels", 9)
    );
}

#[test]
fn an_alias_cannot_nest_past_the_bound() {
    // 60 levels anchored, then aliased 10 levels down: 70 deep.
    let anchored = format!("&deep {}x{}", "[".repeat(60), "]".repeat(60));
    let text = format!(
        "a: {anchored}\nb: {}*deep{}\n",
        "[".repeat(10),
        "]".repeat(10)
    );
    refused_at(&text, (2, 14), DEPTH);
    // The same alias where it fits is read.
    let text = format!(
        "a: {anchored}\nb: {}*deep{}\n",
        "[".repeat(2),
        "]".repeat(2)
    );
    assert!(tree(&text).is_ok());
}

#[test]
fn flow_nesting_a_hundred_thousand_deep_is_refused_not_overflowed() {
    for text in [
        "[".repeat(100_000),
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        "{a: ".repeat(100_000),
        "a: ".to_string() + &"[{b: ".repeat(50_000),
        format!("{}x\n", "- ".repeat(100_000)),
    ] {
        let error = tree(&text).expect_err("the tree read it");
        assert_eq!(error.message, DEPTH);
        assert_eq!(error.mark.line, 1);
    }
    // Past the scanner's own limit of 255, behind a valid start: the root
    // mapping is the first level, so the 64th `[` is the 65th.
    let text = format!("ok: 1\nbad: {}", "[".repeat(300));
    refused_at(&text, (2, 69), DEPTH);
}

/// Nine levels of ten aliases each: a billion copies from 500 bytes.
fn billion_laughs() -> String {
    let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (level, previous) in ('b'..='i').zip('a'..) {
        let aliases = vec![format!("*{previous}"); 10].join(", ");
        text.push_str(&format!("{level}: &{level} [{aliases}]\n"));
    }
    text
}

#[test]
fn a_billion_laughs_are_refused() {
    let text = billion_laughs();
    assert!(text.len() < 600, "{}", text.len());
    let error = tree(&text).expect_err("the tree read it");
    assert_eq!(error.message, bomb_message(Limits::for_text(&text)));
    // It gives up on the level that first copies past a million nodes:
    // level f, a million copies of `lol`.
    assert_eq!(error.mark.line, 6);
    // serde_norway refuses it too, in its own way.
    assert!(common::norway_json(&text).is_err());
}

#[test]
fn a_long_scalar_repeated_by_aliases_is_refused() {
    // A megabyte of text, aliased ten thousand times: ten gigabytes if built.
    let long = "x".repeat(1 << 20);
    let aliases = vec!["*s"; 10_000].join(", ");
    let text = format!("secret: &s {long}\ncopies: [{aliases}]\n");
    let error = tree(&text).expect_err("the tree read it");
    assert_eq!(error.message, bomb_message(Limits::for_text(&text)));
    assert_eq!(error.mark.line, 2);
}

#[test]
fn nested_anchors_cannot_multiply_a_document() {
    // Each of 60 anchors keeps a copy of everything inside it for aliases
    // that never come: sixty copies of 200,000 items.
    let items = vec!["x"; 200_000].join(",");
    let opens: String = (0..60).map(|i| format!("&a{i} [")).collect();
    let text = format!("{opens}{items}{}", "]".repeat(60));
    let error = tree(&text).expect_err("the tree read it");
    assert_eq!(error.message, bomb_message(Limits::for_text(&text)));
    // Without anchors the same document is read.
    let plain = format!("{}{items}{}", "[".repeat(60), "]".repeat(60));
    assert!(tree(&plain).is_ok());
}

#[test]
fn documents_without_aliases_stay_within_the_node_bound() {
    // The densest forms: three nodes for two characters.
    for unit in ["[:,:]", "- ? \n", "[[],[]]", "- []\n", "{a: }", "[~,~]"] {
        let text = unit.repeat(200_000 / unit.len());
        let text = if unit.starts_with('[') || unit.starts_with('{') {
            format!("- {}", text.replace("][", "]\n- [").replace("}{", "}\n- {"))
        } else {
            text
        };
        tree(&text).unwrap_or_else(|e| panic!("{unit:?}: {e:?}"));
    }
    // Long scalars weigh by their text, but never past what they are.
    let long = format!(
        "a: {}\nb: '{}'\nc: |\n  {}\n",
        "y".repeat(3 << 20),
        "z".repeat(1 << 20),
        "w".repeat(1 << 20)
    );
    assert!(tree(&long).is_ok());
}

#[test]
fn a_small_node_bound_is_kept() {
    let limits = Limits {
        max_depth: 64,
        max_nodes: 10,
    };
    let error = parse("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", limits).unwrap_err();
    assert_eq!(error.message, "the document has more than 10 nodes");
    assert_eq!(
        (error.mark.line as usize, error.mark.column as usize),
        (1, 29)
    );
    assert!(parse("[1, 2, 3, 4, 5, 6, 7, 8, 9]", limits).is_ok());
    let error = parse("a: &a [1, 2]\nb: [*a, *a]", limits).unwrap_err();
    assert_eq!(error.message, bomb_message(limits));
    // Ten nodes, the anchor's copy of three among them: the first alias
    // goes past the bound.
    assert_eq!(
        (error.mark.line as usize, error.mark.column as usize),
        (2, 5)
    );
}

#[test]
fn bounded_documents_still_read_as_values() {
    // Aliases that stay within the bound are copied in full.
    let text = "a: &a [1, 2]\nb: &b [*a, *a]\nc: [*b, *b]\n";
    assert_eq!(
        ours_json(text).unwrap()["c"],
        serde_json::json!([[[1, 2], [1, 2]], [[1, 2], [1, 2]]])
    );
}
