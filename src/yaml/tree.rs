//! The positioned YAML tree: reads the inventory with yaml-rust2's event parser, bounds hostile input and keeps every scalar exactly as written. Where yaml-rust2 reads valid YAML otherwise than libyaml (and so serde_norway, which this replaces), it is corrected here: a leading byte-order mark, block scalars at the very end of the text, tabs after a `:`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::str::Chars;

use compact_str::CompactString;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::schema::{Resolved, Scalar, Style};

/// A position in the source, both numbers 1-based; columns count characters. 32 bits
/// each (an inventory is at most 256 MiB): every node of a fleet's tree carries one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mark {
    pub line: u32,
    pub column: u32,
}

impl From<Marker> for Mark {
    fn from(marker: Marker) -> Mark {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        // yaml-rust2 0.13 counts lines from 1 but columns from 0.
        Mark {
            line: narrow(marker.line()),
            column: narrow(marker.col() + 1),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Sequence(Vec<Node>),
    /// Entries in source order.
    Mapping(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub mark: Mark,
    pub value: Value,
}

/// Bounds on what one document may build. Derived `Clone`, `Drop` and
/// `PartialEq` on `Node` recurse, so `max_depth` also bounds their stack use.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Collections nested in one another, aliased ones included.
    pub max_depth: usize,
    /// Nodes built, where every copy an anchor keeps or an alias makes
    /// counts again and a scalar's text weighs one more node per 64 bytes.
    pub max_nodes: usize,
}

impl Limits {
    /// Twice the text length leaves room for any alias-free document (no
    /// construct yields more than three nodes for two characters, and text
    /// weighs a node per 64 bytes it already took), so
    /// only anchors and aliases can reach the node bound. A million nodes is
    /// about a hundred megabytes of tree.
    pub fn for_text(text: &str) -> Limits {
        Limits::for_length(text.len())
    }

    /// The bounds for a text of `bytes` bytes.
    pub fn for_length(bytes: usize) -> Limits {
        Limits {
            max_depth: 64,
            max_nodes: 1_000_000.max(2 * bytes),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub mark: Mark,
    pub message: String,
    /// Where in the document it happened, as `registries[0].password`; empty at the top.
    pub path: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

fn error(mark: Mark, message: impl Into<String>) -> ParseError {
    ParseError {
        mark,
        message: message.into(),
        path: String::new(),
    }
}

/// What reading a [`Stream`] on gives.
#[derive(Debug)]
pub enum Step {
    /// The next entry of the streamed list, which the tree does not keep.
    Entry(Node),
    /// The end of the document: its tree, the streamed list empty in it.
    End(Option<Node>),
}

/// Reads one document handing out the entries of the list under one top-level key as
/// they are read, instead of keeping them in the tree: a fleet's targets, of which the
/// reader holds one at a time. An error here is not final: reading the text whole
/// with [`parse`] corrects what yaml-rust2 reads otherwise than YAML (a tab after a `:`)
/// and locates the rest.
pub struct Stream<'t, I: Iterator<Item = char> = Chars<'t>> {
    builder: Builder<'t, I>,
}

impl<'t> Stream<'t> {
    pub fn new(text: &'t str, limits: Limits, key: &'static str) -> Stream<'t> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut builder = Builder::new(text, limits);
        builder.streamed = Some(key);
        Stream { builder }
    }
}

impl<I: Iterator<Item = char>> Stream<'static, I> {
    /// A stream over characters read as it goes (`LineChars`), the text never held
    /// whole. A block scalar that ends a collection stops it with an error: whether it
    /// runs into the end of the text, which yaml-rust2 reads otherwise than YAML, takes
    /// the text to tell.
    pub fn from_chars(chars: I, limits: Limits, key: &'static str) -> Stream<'static, I> {
        let mut builder = Builder::with_parser(Parser::new(chars), None, limits);
        builder.streamed = Some(key);
        Stream { builder }
    }
}

impl<I: Iterator<Item = char>> Stream<'_, I> {
    pub fn read_on(&mut self) -> Result<Step, ParseError> {
        self.builder.step().map_err(|stop| match stop {
            Stop::Failed(e) | Stop::FlowOverflow(e, _) | Stop::TabAfterColon(e) => e,
        })
    }

    /// The top-level mapping's entries read so far: after the first entry of the
    /// streamed list, those written before its key.
    pub fn prelude(&self) -> Node {
        match self.builder.stack.first() {
            Some(Frame {
                mark,
                items: Items::Mapping(entries, _),
                ..
            }) => Node {
                mark: *mark,
                value: Value::Mapping(entries.clone()),
            },
            _ => Node {
                mark: Mark { line: 1, column: 1 },
                value: Value::Mapping(Vec::new()),
            },
        }
    }
}

/// Reads the single document in `text`; `Ok(None)` when it holds no content.
pub fn parse(text: &str, limits: Limits) -> Result<Option<Node>, ParseError> {
    // Editors on Windows may start a file with a byte-order mark; YAML
    // allows it and libyaml skips it, where yaml-rust2 would make it part
    // of the first key.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match Builder::new(text, limits).run() {
        Err(Stop::TabAfterColon(error)) => respaced(text, limits).unwrap_or(Err(error)),
        read => finish(text, read, limits),
    }
}

fn finish(
    text: &str,
    read: Result<Option<Node>, Stop>,
    limits: Limits,
) -> Result<Option<Node>, ParseError> {
    match read {
        Ok(node) => Ok(node),
        Err(Stop::Failed(error) | Stop::TabAfterColon(error)) => Err(error),
        Err(Stop::FlowOverflow(error, at)) => {
            // yaml-rust2's scanner gives up at 255 open flow collections,
            // before emitting an event for any of them, and says only where
            // it stopped. Re-reading the text before that point lets the
            // depth check name the collection that first went too deep.
            let end = Lines::new(text).offset(text, at);
            match Builder::new(&text[..end], limits).run() {
                Err(Stop::Failed(deeper)) if deeper.message == depth_message(limits) => Err(deeper),
                _ => Err(error),
            }
        }
    }
}

/// yaml-rust2 refuses `key:<tab>value` when the value starts with a letter,
/// digit, `_` or `-`, though YAML separates with tabs as with spaces and
/// libyaml reads it. Writing such separators as spaces, one for one so
/// every mark stays, lets it read on; but the same characters inside a
/// quoted or block scalar are text and must stay. Tabs never change where a
/// scalar starts or ends, so one reading with every candidate respaced
/// shows which of them are inside scalars, and a second reading, needed
/// only if some are, respaces just the others. `None` when that still
/// fails on a tab: the first refusal then stands.
fn respaced(text: &str, limits: Limits) -> Option<Result<Option<Node>, ParseError>> {
    let candidates = tabs_after_colons(text);
    let everywhere = respace(text, &candidates);
    let mut builder = Builder::new(&everywhere, limits);
    builder.scalar_spans = Some(Vec::new());
    let read = builder.run();
    let spans = builder.scalar_spans.take().unwrap_or_default();
    // Spans come in text order, so each tab needs one search.
    let inside = |tab: &usize| {
        let after = spans.partition_point(|&(start, _)| start <= *tab);
        after > 0 && *tab < spans[after - 1].1
    };
    let (kept, separators): (Vec<usize>, Vec<usize>) = candidates.iter().partition(|t| inside(t));
    let (text, read) = if kept.is_empty() {
        (everywhere, read)
    } else {
        let some = respace(text, &separators);
        let read = Builder::new(&some, limits).run();
        (some, read)
    };
    match read {
        Err(Stop::TabAfterColon(_)) => None,
        read => Some(finish(&text, read, limits)),
    }
}

/// The byte offsets of the tabs in each run of blanks after a `:` that
/// yaml-rust2 would refuse: one starting with a tab and followed by a
/// letter, digit, `_` or `-`.
fn tabs_after_colons(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut tabs = Vec::new();
    for at in 1..bytes.len() {
        if bytes[at - 1] != b':' || bytes[at] != b'\t' {
            continue;
        }
        let blanks = bytes[at..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        if bytes
            .get(at + blanks)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        {
            tabs.extend((at..at + blanks).filter(|&i| bytes[i] == b'\t'));
        }
    }
    tabs
}

/// `text` with the tabs at these byte offsets written as spaces.
fn respace(text: &str, tabs: &[usize]) -> String {
    text.char_indices()
        .map(|(at, c)| {
            if tabs.binary_search(&at).is_ok() {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Where each line of a text starts, to turn the parser's marks into byte
/// offsets. A mark's own index cannot be used: yaml-rust2 counts it in
/// chars, except over the part of a block scalar's line it reads in one go,
/// where it counts bytes, so after non-ASCII text there it drifts. A line
/// and column stay right from the next line on, and nothing else is marked
/// on a block scalar's line.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (at, &b) in bytes.iter().enumerate() {
            let ends_line = b == b'\n' || (b == b'\r' && bytes.get(at + 1) != Some(&b'\n'));
            if ends_line {
                starts.push(at + 1);
            }
        }
        Lines { starts }
    }

    /// The byte offset of `marker` in `text`; the end of the text for the
    /// parser's end mark, which it puts a line past the last.
    fn offset(&self, text: &str, marker: Marker) -> usize {
        let Some(&start) = marker
            .line()
            .checked_sub(1)
            .and_then(|i| self.starts.get(i))
        else {
            return text.len();
        };
        text[start..]
            .char_indices()
            .nth(marker.col())
            .map_or(text.len(), |(at, _)| start + at)
    }
}

fn depth_message(limits: Limits) -> String {
    format!("nested deeper than {} levels", limits.max_depth)
}

enum Stop {
    Failed(ParseError),
    /// The scanner's own flow-nesting limit, with where it stopped.
    FlowOverflow(ParseError, Marker),
    /// The scanner's refusal of a tab after a `:`; see [`respaced`].
    TabAfterColon(ParseError),
}

impl From<ParseError> for Stop {
    fn from(error: ParseError) -> Stop {
        Stop::Failed(error)
    }
}

/// A scalar's text counts as one more node per this many bytes: an alias
/// copies the text too, so counting nodes alone would let a short document
/// repeat one long scalar into gigabytes.
const TEXT_BYTES_PER_NODE: usize = 64;

/// A finished node with what a copy of it costs (its nodes, text weighed
/// in) and how many collection levels it spans.
#[derive(Clone)]
struct Built {
    node: Node,
    nodes: usize,
    height: usize,
}

struct Frame {
    mark: Mark,
    anchor: usize,
    nodes: usize,
    height: usize,
    items: Items,
    /// Entries handed out by a [`Stream`] rather than kept in `items`.
    streamed: usize,
}

enum Items {
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>, Option<Node>),
}

struct Builder<'t, I: Iterator<Item = char> = Chars<'t>> {
    parser: Parser<I>,
    /// The whole text, unless it is read as it goes (`Stream::from_chars`).
    text: Option<&'t str>,
    /// Made when a mark must be turned into a byte offset.
    lines: Option<Lines>,
    /// The byte ranges of quoted and block scalars, in text order, when
    /// [`respaced`] asks for them.
    scalar_spans: Option<Vec<(usize, usize)>>,
    limits: Limits,
    nodes: usize,
    anchors: HashMap<usize, Built>,
    stack: Vec<Frame>,
    documents: usize,
    root: Option<Node>,
    /// The top-level key whose list's entries are handed out as read ([`Stream`]).
    streamed: Option<&'static str>,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str, limits: Limits) -> Builder<'t> {
        Builder::with_parser(Parser::new_from_str(text), Some(text), limits)
    }
}

impl<'t, I: Iterator<Item = char>> Builder<'t, I> {
    fn with_parser(parser: Parser<I>, text: Option<&'t str>, limits: Limits) -> Builder<'t, I> {
        Builder {
            parser,
            text,
            lines: None,
            scalar_spans: None,
            limits,
            nodes: 0,
            anchors: HashMap::new(),
            stack: Vec::new(),
            documents: 0,
            root: None,
            streamed: None,
        }
    }

    /// Reads the document; a problem carries the path of the node being built.
    fn run(&mut self) -> Result<Option<Node>, Stop> {
        loop {
            if let Step::End(root) = self.step()? {
                return Ok(root);
            }
        }
    }

    /// Reads on to the next streamed entry or the end; a problem carries the path of the
    /// node being built.
    fn step(&mut self) -> Result<Step, Stop> {
        self.read().map_err(|mut stop| {
            let (Stop::Failed(e) | Stop::FlowOverflow(e, _) | Stop::TabAfterColon(e)) = &mut stop;
            e.path = self.path();
            stop
        })
    }

    /// The path of what is being built: a key for each mapping waiting for its value,
    /// an index for each sequence.
    fn path(&self) -> String {
        let mut path = String::new();
        for frame in &self.stack {
            match &frame.items {
                Items::Sequence(items) => {
                    path.push_str(&format!("[{}]", items.len() + frame.streamed));
                }
                Items::Mapping(_, Some(key)) => {
                    if let Value::Scalar(scalar) = &key.value {
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(&scalar.text);
                    }
                }
                Items::Mapping(_, None) => {}
            }
        }
        path
    }

    /// Pulls events one at a time so every bound stops the read at its first
    /// breach instead of after the parser has seen the whole input.
    fn read(&mut self) -> Result<Step, Stop> {
        loop {
            let (event, marker) = self.parser.next_token().map_err(scan_stop)?;
            let mark = Mark::from(marker);
            let (built, anchor) = match event {
                Event::StreamEnd => {
                    let root = self.root.take();
                    return Ok(Step::End(root.filter(|node| !is_implicit_null(node))));
                }
                Event::DocumentStart if self.documents > 0 => {
                    let mark = self.text.map_or(mark, |text| line_start(text, marker));
                    return Err(error(mark, "the inventory is one YAML document").into());
                }
                Event::DocumentStart => {
                    self.documents += 1;
                    continue;
                }
                Event::Scalar(text, style, anchor, tag) => {
                    (self.scalar(text, style, tag, marker)?, anchor)
                }
                Event::Alias(id) => (self.alias(id, mark)?, 0),
                Event::SequenceStart(anchor, tag) => {
                    self.open(mark, anchor, tag, Items::Sequence(Vec::new()))?;
                    continue;
                }
                Event::MappingStart(anchor, tag) => {
                    let mark = self.mapping_mark(mark)?;
                    self.open(mark, anchor, tag, Items::Mapping(Vec::new(), None))?;
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => self.close()?,
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => continue,
            };
            if anchor != 0 {
                // The copy kept for aliases costs what the node does, or
                // anchors nested 64 deep would hold 64 copies of the
                // innermost part unbounded.
                self.count(built.nodes, built.node.mark, true)?;
                self.anchors.insert(anchor, built.clone());
            }
            if self.hands_out() {
                let frame = self.stack.last_mut().expect("a streamed list is open");
                count_in(frame, &built);
                frame.streamed += 1;
                return Ok(Step::Entry(built.node));
            }
            match self.stack.last_mut() {
                Some(frame) => attach(frame, built, mark)?,
                None => self.root = Some(built.node),
            }
        }
    }

    /// Whether the node just built is an entry of the streamed list: the top-level
    /// mapping's value under the streamed key is the open list.
    fn hands_out(&self) -> bool {
        let [top, list] = self.stack.as_slice() else {
            return false;
        };
        let under_key = match &top.items {
            Items::Mapping(_, Some(key)) => key.as_str(),
            _ => None,
        };
        matches!(list.items, Items::Sequence(_))
            && under_key.is_some()
            && under_key == self.streamed
    }

    fn count(&mut self, nodes: usize, mark: Mark, copy: bool) -> Result<(), ParseError> {
        self.nodes += nodes;
        if self.nodes <= self.limits.max_nodes {
            return Ok(());
        }
        let max = self.limits.max_nodes;
        Err(error(
            mark,
            if copy {
                format!(
                    "the anchors and aliases here copy past {max} nodes; the inventory's YAML is bounded against alias bombs"
                )
            } else {
                format!("the document has more than {max} nodes")
            },
        ))
    }

    fn scalar(
        &mut self,
        mut text: String,
        style: TScalarStyle,
        tag: Option<Tag>,
        marker: Marker,
    ) -> Result<Built, Stop> {
        let mut mark = Mark::from(marker);
        if let TScalarStyle::Literal | TScalarStyle::Folded = style {
            self.block_scalar_end(&mut text, marker)?;
        }
        if style != TScalarStyle::Plain && self.scalar_spans.is_some() {
            let start = self.offset(marker);
            let end = self.scalar_end(style, start)?;
            if let Some(spans) = &mut self.scalar_spans {
                spans.push((start, end));
            }
        }
        let nodes = 1 + text.len() / TEXT_BYTES_PER_NODE;
        self.count(nodes, mark, false)?;
        // Short text is kept inline; the scanner grows long text a character at a time,
        // so keep only what it holds.
        let mut text = CompactString::from(text);
        text.shrink_to_fit();
        if text.is_empty() && style == TScalarStyle::Plain {
            // The parser places an absent value at whatever token follows,
            // often the next line's key; its own key is the better place.
            if let Some(Frame {
                items: Items::Mapping(_, Some(key)),
                ..
            }) = self.stack.last()
            {
                mark = key.mark;
            }
        }
        let style = match (&tag, style) {
            (None, _) => convert_style(style),
            (Some(tag), TScalarStyle::Plain) if is_str_tag(tag) => Style::SingleQuoted,
            (Some(tag), _) if is_str_tag(tag) => convert_style(style),
            (Some(_), _) => return Err(tag_error(mark).into()),
        };
        Ok(Built {
            node: Node {
                mark,
                value: Value::Scalar(Scalar { text, style }),
            },
            nodes,
            height: 0,
        })
    }

    /// yaml-rust2 ends a block scalar that runs into the end of the text
    /// otherwise than YAML does, and libyaml, so serde_norway: it gives the
    /// last content line a line break the text does not have (`a: |\n  x`
    /// reads "x\n", not "x"), and a scalar with no content lines one too
    /// (`a: |\n` reads "\n", not ""). Only a document's last node runs
    /// into the end, so only the text there is looked at. `marker` is the
    /// scalar's first content character, or its `|` or `>` if it has none.
    fn block_scalar_end(&mut self, text: &mut String, marker: Marker) -> Result<(), Stop> {
        let Some(whole) = self.text else {
            // Read as it goes: content after it means it does not run into the end.
            let (next, _) = self.parser.peek().map_err(scan_stop)?;
            return match next {
                Event::Scalar(..)
                | Event::Alias(_)
                | Event::SequenceStart(..)
                | Event::MappingStart(..) => Ok(()),
                _ => Err(error(
                    Mark::from(marker),
                    "a block scalar that ends a collection is read with the whole text",
                )
                .into()),
            };
        };
        if self.next_offset()? != whole.len() {
            return Ok(());
        }
        let from_marker = &whole[self.offset(marker)..];
        if text.bytes().all(|b| b == b'\n')
            && let Some(blank) = contentless_block_text(from_marker)
        {
            *text = blank;
            return Ok(());
        }
        if text.ends_with('\n') && !whole.ends_with(['\n', '\r']) {
            // yaml-rust2 adds the break when the last line is the
            // scalar's: indented as far as its content (a comment less
            // indented ends the scalar on a line break of its own).
            let last_line = whole.rsplit(['\n', '\r']).next().unwrap_or_default();
            let indent = marker.col();
            let spaces = last_line.bytes().take_while(|&b| b == b' ').count();
            if spaces >= indent && last_line.chars().count() >= indent.max(1) {
                text.pop();
            }
        }
        Ok(())
    }

    /// Where a quoted or block scalar that starts at byte `start` ends:
    /// after its closing quote, or where the next event starts.
    fn scalar_end(&mut self, style: TScalarStyle, start: usize) -> Result<usize, Stop> {
        let quote = match style {
            TScalarStyle::SingleQuoted => '\'',
            TScalarStyle::DoubleQuoted => '"',
            _ => return self.next_offset(),
        };
        let mut chars = self.whole()[start..].char_indices().skip(1).peekable();
        while let Some((at, c)) = chars.next() {
            // `\"` in double quotes and `''` in single quotes are text.
            let escaped = match c {
                '\\' => quote == '"',
                '\'' => quote == '\'' && chars.peek().is_some_and(|&(_, next)| next == '\''),
                _ => false,
            };
            if escaped {
                chars.next();
            } else if c == quote {
                return Ok(start + at + 1);
            }
        }
        self.next_offset()
    }

    /// The whole text: only a builder given it measures offsets in it (quoted and block
    /// scalars for [`respaced`], block scalars that may run into the end).
    fn whole(&self) -> &'t str {
        self.text
            .expect("offsets are measured in a text read whole")
    }

    /// Where the next event starts, as a byte offset.
    fn next_offset(&mut self) -> Result<usize, Stop> {
        let (_, next) = self.parser.peek().map_err(scan_stop)?;
        let next = *next;
        Ok(self.offset(next))
    }

    fn offset(&mut self, marker: Marker) -> usize {
        let text = self.whole();
        self.lines
            .get_or_insert_with(|| Lines::new(text))
            .offset(text, marker)
    }

    fn alias(&mut self, id: usize, mark: Mark) -> Result<Built, ParseError> {
        let Some(anchored) = self.anchors.get(&id) else {
            // The parser knows every anchor by now, so only an alias inside
            // the collection it names can miss.
            return Err(error(mark, "this alias refers to the collection it is in"));
        };
        let (nodes, height) = (anchored.nodes, anchored.height);
        if self.stack.len() + height > self.limits.max_depth {
            return Err(error(mark, depth_message(self.limits)));
        }
        // Counted before copying, so a bomb fails without being built.
        self.count(nodes, mark, true)?;
        let mut copy = self.anchors[&id].clone();
        // The copy is written here: a duplicate key or a value of the wrong
        // kind is reported at the alias, and only what is inside the copy
        // points back into the anchored node.
        copy.node.mark = mark;
        Ok(copy)
    }

    /// A block mapping's start event sits at the first key's `:`; the
    /// mapping is written where its first key is. A flow mapping's `{`
    /// comes before its first key and stays.
    fn mapping_mark(&mut self, start: Mark) -> Result<Mark, Stop> {
        let (_, next) = self.parser.peek().map_err(scan_stop)?;
        Ok(start.min(Mark::from(*next)))
    }

    fn open(
        &mut self,
        mark: Mark,
        anchor: usize,
        tag: Option<Tag>,
        items: Items,
    ) -> Result<(), ParseError> {
        if tag.is_some() {
            return Err(tag_error(mark));
        }
        if let Some(Frame {
            items: Items::Mapping(_, None),
            ..
        }) = self.stack.last()
        {
            return Err(error(mark, "mapping keys must be strings"));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(error(mark, depth_message(self.limits)));
        }
        self.count(1, mark, false)?;
        self.stack.push(Frame {
            mark,
            anchor,
            nodes: 1,
            height: 1,
            items,
            streamed: 0,
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(Built, usize), ParseError> {
        let frame = self
            .stack
            .pop()
            .expect("the parser balances collection events");
        // A collection keeps exactly its items: the slack of a growing Vec is most of a
        // small mapping, and a fleet's inventory is a hundred thousand of them.
        let value = match frame.items {
            Items::Sequence(mut items) => {
                items.shrink_to_fit();
                Value::Sequence(items)
            }
            Items::Mapping(mut entries, _) => {
                check_duplicates(&entries)?;
                entries.shrink_to_fit();
                Value::Mapping(entries)
            }
        };
        let built = Built {
            node: Node {
                mark: frame.mark,
                value,
            },
            nodes: frame.nodes,
            height: frame.height,
        };
        Ok((built, frame.anchor))
    }
}

fn attach(frame: &mut Frame, built: Built, mark: Mark) -> Result<(), ParseError> {
    count_in(frame, &built);
    match &mut frame.items {
        Items::Sequence(items) => items.push(built.node),
        Items::Mapping(entries, key) => match key.take() {
            Some(key) => entries.push((key, built.node)),
            // Collections are refused as keys when they open; an alias
            // of one is only known here.
            None if !matches!(built.node.value, Value::Scalar(_)) => {
                return Err(error(mark, "mapping keys must be strings"));
            }
            None => *key = Some(built.node),
        },
    }
    Ok(())
}

/// What a child costs its collection, kept or streamed: its nodes and height.
fn count_in(frame: &mut Frame, built: &Built) {
    frame.nodes += built.nodes;
    frame.height = frame.height.max(built.height + 1);
}

/// What YAML makes of a block scalar whose header starts `rest` and is
/// followed by nothing but blank lines: no text, or with `+` the line
/// breaks after the header's own. `None` when `rest` is not such a header.
fn contentless_block_text(rest: &str) -> Option<String> {
    let (header, body) = rest.split_at(rest.find(['\n', '\r']).unwrap_or(rest.len()));
    let indicators = header.strip_prefix(['|', '>'])?;
    let after =
        indicators.trim_start_matches(['+', '-', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    let comment = after.trim_start_matches([' ', '\t']);
    let blank_header =
        comment.is_empty() || (comment.starts_with('#') && comment.len() < after.len());
    if !blank_header || !body.bytes().all(|b| matches!(b, b' ' | b'\n' | b'\r')) {
        return None;
    }
    if !indicators[..indicators.len() - after.len()].contains('+') {
        return Some(String::new());
    }
    let breaks = body
        .replace("\r\n", "\n")
        .bytes()
        .filter(|&b| b == b'\n' || b == b'\r')
        .count();
    Some("\n".repeat(breaks.saturating_sub(1)))
}

/// The first character written on `marker`'s line, when it is before
/// `marker`: an implicit document starts at its first key, but the parser
/// marks it at that key's `:`.
fn line_start(text: &str, marker: Marker) -> Mark {
    let mark = Mark::from(marker);
    let text = text.replace("\r\n", "\n");
    let line = text
        .split(['\n', '\r'])
        .nth(mark.line as usize - 1)
        .unwrap_or_default();
    let indent = line.chars().take_while(|c| c.is_whitespace()).count() + 1;
    Mark {
        line: mark.line,
        column: mark.column.min(u32::try_from(indent).unwrap_or(u32::MAX)),
    }
}

/// Mappings up to this size are checked pairwise: cheaper than hashing their keys, and an
/// inventory is a great many small mappings.
const PAIRWISE_KEYS: usize = 16;

fn check_duplicates(entries: &[(Node, Node)]) -> Result<(), ParseError> {
    if entries.len() <= PAIRWISE_KEYS {
        for (at, (key, _)) in entries.iter().enumerate() {
            let Some(text) = key.as_str() else { continue };
            if let Some((first, _)) = entries[..at].iter().find(|(k, _)| k.as_str() == Some(text)) {
                return Err(duplicate(key, text, first.mark));
            }
        }
        return Ok(());
    }
    let mut seen: HashMap<&str, Mark> = HashMap::with_capacity(entries.len());
    for (key, _) in entries {
        let Some(text) = key.as_str() else { continue };
        match seen.entry(text) {
            Entry::Occupied(first) => return Err(duplicate(key, text, *first.get())),
            Entry::Vacant(slot) => {
                slot.insert(key.mark);
            }
        }
    }
    Ok(())
}

fn duplicate(key: &Node, text: &str, first: Mark) -> ParseError {
    error(
        key.mark,
        format!("duplicate key `{text}`, first at line {}", first.line),
    )
}

fn scan_stop(scan: ScanError) -> Stop {
    let error = error(Mark::from(*scan.marker()), scan.info());
    match scan.info() {
        "recursion limit exceeded" => Stop::FlowOverflow(error, *scan.marker()),
        "':' must be followed by a valid YAML whitespace" => Stop::TabAfterColon(error),
        _ => Stop::Failed(error),
    }
}

fn convert_style(style: TScalarStyle) -> Style {
    match style {
        TScalarStyle::Plain => Style::Plain,
        TScalarStyle::SingleQuoted => Style::SingleQuoted,
        TScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        TScalarStyle::Literal => Style::Literal,
        TScalarStyle::Folded => Style::Folded,
    }
}

const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

fn is_str_tag(tag: &Tag) -> bool {
    tag.handle == CORE_TAG_PREFIX && tag.suffix == "str"
}

/// The tag is not named: `password: !s3cret` is far likelier an unquoted
/// password than a tag, and it must not reach a message or a log.
fn tag_error(mark: Mark) -> ParseError {
    error(
        mark,
        "YAML tags (`!name`) are not supported; quote a value that starts with `!`",
    )
}

fn is_implicit_null(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if s.text.is_empty() && s.style == Style::Plain)
}

impl Node {
    /// The value of the entry whose scalar key text is `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// Follows a path such as `registries[1].address` or `[3]`; `""` is the
    /// node itself and a leading `.` is allowed, so a `DeError` path works.
    pub fn at(&self, path: &str) -> Option<&Node> {
        let mut node = self;
        let mut rest = path.strip_prefix('.').unwrap_or(path);
        while !rest.is_empty() {
            if let Some(indexed) = rest.strip_prefix('[') {
                let (index, after) = indexed.split_once(']')?;
                let Value::Sequence(items) = &node.value else {
                    return None;
                };
                node = items.get(index.parse::<usize>().ok()?)?;
                rest = after.strip_prefix('.').unwrap_or(after);
            } else {
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                node = node.get(&rest[..end])?;
                rest = &rest[end..];
                rest = rest.strip_prefix('.').unwrap_or(rest);
            }
        }
        Some(node)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(scalar) => Some(&scalar.text),
            _ => None,
        }
    }

    /// What the node is, for messages that must not quote a scalar's text.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a mapping",
            Value::Scalar(scalar) => match scalar.resolve() {
                Resolved::Null => "null",
                Resolved::Bool(_) => "a boolean",
                Resolved::Unsigned(_)
                | Resolved::Signed(_)
                | Resolved::BigUnsigned(_)
                | Resolved::BigSigned(_)
                | Resolved::Float(_) => "a number",
                Resolved::Str(_) => "a string",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streamed(text: &str) -> (Vec<Node>, Node, Result<Option<Node>, ParseError>) {
        let mut stream = Stream::new(text, Limits::for_text(text), "list");
        let mut entries = Vec::new();
        let mut prelude = None;
        loop {
            match stream.read_on() {
                Ok(Step::Entry(node)) => {
                    prelude.get_or_insert_with(|| stream.prelude());
                    entries.push(node);
                }
                Ok(Step::End(root)) => return (entries, prelude.unwrap(), Ok(root)),
                Err(e) => return (entries, prelude.unwrap(), Err(e)),
            }
        }
    }

    #[test]
    fn a_stream_hands_out_the_list_entries_and_keeps_the_rest() {
        let text = "before: 1\nlist:\n  - &x {k: v}\n  - [*x, 2]\nafter: {n: 3}\n";
        let whole = parse(text, Limits::for_text(text)).unwrap().unwrap();
        let (entries, prelude, root) = streamed(text);
        let Value::Sequence(items) = &whole.get("list").unwrap().value else {
            panic!("a list");
        };
        // Entries are the nodes the whole tree holds, aliases copied as there.
        assert_eq!(&entries, items);
        // Before the first entry only the keys written before the list are known.
        let Value::Mapping(known) = &prelude.value else {
            panic!("a mapping");
        };
        assert_eq!(known.len(), 1);
        assert_eq!(prelude.get("before"), whole.get("before"));
        // The tree keeps everything else; the list is empty in it.
        let root = root.unwrap().unwrap();
        assert_eq!(root.get("list").unwrap().value, Value::Sequence(Vec::new()));
        assert_eq!(root.get("after"), whole.get("after"));
        assert_eq!(root.get("before"), whole.get("before"));
    }

    #[test]
    fn an_error_in_a_streamed_entry_is_placed_as_in_the_whole_tree() {
        let text = "list:\n  - a\n  - {k: 1, k: 2}\n";
        let whole = parse(text, Limits::for_text(text)).unwrap_err();
        let (entries, _, end) = streamed(text);
        assert_eq!(entries.len(), 1);
        let streamed = end.unwrap_err();
        assert_eq!(streamed.path, "list[1]");
        assert_eq!(streamed, whole);
    }

    #[test]
    fn characters_read_as_they_go_stream_as_the_text_does() {
        let text = "\u{feff}before: |\n  kept\nlist:\n  - {k: v}\n  - key: >\n      folded\n    next: 1\nafter: [x]\n";
        let read = |text: &str| {
            let (chars, _) = crate::yaml::LineChars::new(text.as_bytes(), 1 << 20);
            let mut stream = Stream::from_chars(chars, Limits::for_text(text), "list");
            let mut steps = Vec::new();
            loop {
                match stream.read_on() {
                    Ok(Step::End(root)) => return Ok((steps, root)),
                    Ok(Step::Entry(node)) => steps.push(node),
                    Err(e) => return Err(e),
                }
            }
        };
        let (entries, root) = read(text).unwrap();
        let (whole, _, whole_root) = streamed(text);
        assert_eq!(entries, whole);
        assert_eq!(root, whole_root.unwrap());
        // Whether a block scalar that ends a collection runs into the end of the text
        // takes the text to tell.
        let e = read("list:\n  - key: |\n      x\n").unwrap_err();
        assert!(e.message.contains("whole text"), "{e}");
    }

    #[test]
    fn a_duplicate_key_is_named_at_its_second_place_in_small_and_large_mappings() {
        for size in [3, PAIRWISE_KEYS + 5] {
            let mut text: String = (0..size).map(|k| format!("k{k}: 1\n")).collect();
            text.push_str("k1: 2\nk2: 3\n");
            let e = parse(&text, Limits::for_text(&text)).unwrap_err();
            assert_eq!(
                e.message, "duplicate key `k1`, first at line 2",
                "{size} keys"
            );
            assert_eq!(e.mark.line as usize, size + 1, "{size} keys");
        }
    }

    #[test]
    fn only_the_top_level_list_under_the_key_is_streamed() {
        let text = "list: {list: [1, 2]}\nother:\n  list: [3]\n";
        let mut stream = Stream::new(text, Limits::for_text(text), "list");
        let Step::End(root) = stream.read_on().unwrap() else {
            panic!("nothing to hand out");
        };
        assert_eq!(root, parse(text, Limits::for_text(text)).unwrap());
    }
}
