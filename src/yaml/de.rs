//! The serde Deserializer over a positioned tree: scalars mean what serde_norway makes of them (see `schema`), and errors carry a mark and a field path but never a scalar value's text.

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeSeed, EnumAccess, Expected, MapAccess, SeqAccess, Unexpected, VariantAccess,
    Visitor,
};

use super::schema::{Resolved, Scalar, Style, parse_float, parse_signed, parse_unsigned};
use super::tree::{Mark, Node, Value};

/// Deserializes `T` from `node`, borrowing strings from the tree.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node) -> Result<T, DeError> {
    from_node_except(node, &[])
}

/// Deserializes `T` from the mapping at `node` as if the entries under the keys `skip`
/// were not there (they are read on their own), without copying the tree.
pub fn from_node_except<'de, T: de::Deserialize<'de>>(
    node: &'de Node,
    skip: &'static [&'static str],
) -> Result<T, DeError> {
    T::deserialize(NodeDe(node, skip)).map_err(|error| error.locate(node))
}

/// `path` is relative to the node given to [`from_node`]: `""`,
/// `.secret.name`, `[2]`, `.files[0].mode`.
#[derive(Clone, Debug, PartialEq)]
pub struct DeError {
    pub mark: Mark,
    pub path: String,
    pub message: String,
}

/// Line 0 never occurs in a 1-based mark, so it stands for an error that no
/// node has claimed yet.
const UNLOCATED: Mark = Mark { line: 0, column: 0 };

impl DeError {
    /// The innermost node an error passes through is where it happened;
    /// outer nodes leave it alone.
    fn locate(mut self, node: &Node) -> DeError {
        if self.mark == UNLOCATED {
            self.mark = node.mark;
        }
        self
    }

    /// Paths are built only for errors, one segment per level on the way out.
    fn within_key(mut self, key: &Node) -> DeError {
        self.path
            .insert_str(0, &format!(".{}", key.as_str().unwrap_or_default()));
        self
    }

    fn within_index(mut self, index: usize) -> DeError {
        self.path.insert_str(0, &format!("[{index}]"));
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(message: T) -> DeError {
        DeError {
            mark: UNLOCATED,
            path: String::new(),
            message: message.to_string(),
        }
    }

    // serde's defaults quote the offending value; it may be a password.
    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> DeError {
        mismatch(expected, describe(&unexpected))
    }

    /// The kind was right but not the value: for a number (`300` for a
    /// `u8`, `-1` for a `u32`) that means its range.
    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> DeError {
        match unexpected {
            Unexpected::Unsigned(_) | Unexpected::Signed(_) | Unexpected::Float(_) => {
                mismatch(expected, OUT_OF_RANGE)
            }
            _ => mismatch(expected, describe(&unexpected)),
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> DeError {
        DeError::custom(format_args!(
            "unknown field `{field}`, {}",
            one_of(expected, "fields")
        ))
    }

    /// Serde asks this for a variant written as a scalar value (`kind:
    /// typo`, or an internally tagged enum's tag), which may be a secret, so
    /// the name is left out; the mark still points at it. A variant written
    /// as a key is named: see `VariantKey`.
    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> DeError {
        DeError::custom(format_args!(
            "unknown variant, {}",
            one_of(expected, "variants")
        ))
    }

    fn missing_field(field: &'static str) -> DeError {
        DeError::custom(format_args!("missing field `{field}`"))
    }

    fn duplicate_field(field: &'static str) -> DeError {
        DeError::custom(format_args!("duplicate field `{field}`"))
    }
}

const OUT_OF_RANGE: &str = "a number out of range";

fn mismatch(expected: &dyn Expected, found: &str) -> DeError {
    de::Error::custom(format_args!("expected {expected}, found {found}"))
}

fn one_of(names: &[&str], what: &str) -> String {
    if names.is_empty() {
        return format!("there are no {what}");
    }
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    format!("expected one of {}", quoted.join(", "))
}

fn describe(unexpected: &Unexpected<'_>) -> &'static str {
    match unexpected {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) | Unexpected::Float(_) => "a number",
        Unexpected::Char(_) | Unexpected::Str(_) => "a string",
        Unexpected::Bytes(_) => "bytes",
        Unexpected::Unit => "null",
        Unexpected::Option => "an optional value",
        Unexpected::NewtypeStruct => "a newtype struct",
        Unexpected::Seq => "a list",
        Unexpected::Map => "a mapping",
        Unexpected::Enum => "an enum",
        Unexpected::UnitVariant => "a unit variant",
        Unexpected::NewtypeVariant => "a newtype variant",
        Unexpected::TupleVariant => "a tuple variant",
        Unexpected::StructVariant => "a struct variant",
        // Only a description of a kind is carried here, and it may be
        // built at run time; naming the category keeps values out.
        Unexpected::Other(_) => "another kind of value",
    }
}

/// A node, and the keys left out if it is a mapping (none below the node given).
#[derive(Clone, Copy)]
struct NodeDe<'de>(&'de Node, &'static [&'static str]);

impl<'de> NodeDe<'de> {
    fn mismatch(self, expected: &dyn Expected) -> DeError {
        mismatch(expected, self.0.kind())
    }

    fn scalar(self) -> Option<&'de Scalar> {
        match &self.0.value {
            Value::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    fn plain(self) -> Option<Resolved<'de>> {
        self.scalar()
            .filter(|scalar| scalar.style == Style::Plain)
            .map(Scalar::resolve)
    }

    /// serde_norway reads a value left empty (`files:`) as an empty list or
    /// mapping where one is wanted; an explicit `null` or `~` is not.
    fn is_left_empty(self) -> bool {
        self.scalar()
            .is_some_and(|scalar| scalar.text.is_empty() && scalar.style == Style::Plain)
    }

    /// serde_norway reads a number field from a plain scalar only, with a
    /// grammar per width (`grammar` here), not with `deserialize_any`'s
    /// resolution: a float field takes `0644` as 644.0 but refuses `0x10`.
    /// Mirroring it keeps the same text giving the same number or refusal.
    fn number<V: Visitor<'de>>(self, visitor: V, grammar: Grammar) -> Result<V::Value, DeError> {
        let text = self.scalar().filter(|scalar| scalar.style == Style::Plain);
        match text.and_then(|scalar| (grammar.parse)(&scalar.text)) {
            Some(number) => visit_resolved(number, visitor),
            // An integer that an integer grammar refuses can only be too
            // wide or of the wrong sign.
            None if grammar.integer && text.is_some_and(|scalar| is_integer(scalar.resolve())) => {
                Err(mismatch(&visitor, OUT_OF_RANGE))
            }
            None => Err(self.mismatch(&visitor)),
        }
        .map_err(|error| error.locate(self.0))
    }

    fn text<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar() {
            Some(scalar) => visitor.visit_borrowed_str(&scalar.text),
            None => Err(self.mismatch(&visitor)),
        }
        .map_err(|error| error.locate(self.0))
    }

    fn null<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some(Resolved::Null) => visitor.visit_unit(),
            _ => Err(self.mismatch(&visitor)),
        }
        .map_err(|error| error.locate(self.0))
    }
}

macro_rules! numbers {
    ($($method:ident => $grammar:expr,)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.number(visitor, $grammar)
        })*
    };
}

/// How serde_norway reads one kind of number field; narrower integers go
/// through the 64-bit grammars and the visitor checks their range.
#[derive(Clone, Copy)]
struct Grammar {
    parse: fn(&str) -> Option<Resolved<'static>>,
    integer: bool,
}

const U64: Grammar = Grammar {
    parse: |text| {
        parse_unsigned(text)
            .and_then(|n| u64::try_from(n).ok())
            .map(Resolved::Unsigned)
    },
    integer: true,
};

const I64: Grammar = Grammar {
    parse: |text| {
        parse_signed(text)
            .and_then(|n| i64::try_from(n).ok())
            .map(Resolved::Signed)
    },
    integer: true,
};

const U128: Grammar = Grammar {
    parse: |text| parse_unsigned(text).map(Resolved::BigUnsigned),
    integer: true,
};

const I128: Grammar = Grammar {
    parse: |text| parse_signed(text).map(Resolved::BigSigned),
    integer: true,
};

const F64: Grammar = Grammar {
    parse: |text| parse_float(text).map(Resolved::Float),
    integer: false,
};

fn is_integer(resolved: Resolved<'_>) -> bool {
    matches!(
        resolved,
        Resolved::Unsigned(_)
            | Resolved::Signed(_)
            | Resolved::BigUnsigned(_)
            | Resolved::BigSigned(_)
    )
}

fn visit_resolved<'de, V: Visitor<'de>>(
    resolved: Resolved<'de>,
    visitor: V,
) -> Result<V::Value, DeError> {
    match resolved {
        Resolved::Null => visitor.visit_unit(),
        Resolved::Bool(b) => visitor.visit_bool(b),
        Resolved::Unsigned(n) => visitor.visit_u64(n),
        Resolved::Signed(n) => visitor.visit_i64(n),
        Resolved::BigUnsigned(n) => visitor.visit_u128(n),
        Resolved::BigSigned(n) => visitor.visit_i128(n),
        Resolved::Float(n) => visitor.visit_f64(n),
        Resolved::Str(text) => visitor.visit_borrowed_str(text),
    }
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Scalar(scalar) => visit_resolved(scalar.resolve(), visitor),
            Value::Sequence(items) => visit_seq(items, visitor),
            Value::Mapping(entries) => visitor.visit_map(Entries::new(entries, self.1)),
        }
        .map_err(|error| error.locate(self.0))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some(Resolved::Bool(b)) => visitor.visit_bool(b),
            _ => Err(self.mismatch(&visitor)),
        }
        .map_err(|error| error.locate(self.0))
    }

    numbers! {
        deserialize_i8 => I64,
        deserialize_i16 => I64,
        deserialize_i32 => I64,
        deserialize_i64 => I64,
        deserialize_i128 => I128,
        deserialize_u8 => U64,
        deserialize_u16 => U64,
        deserialize_u32 => U64,
        deserialize_u64 => U64,
        deserialize_u128 => U128,
        deserialize_f32 => F64,
        deserialize_f64 => F64,
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.text(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.text(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.text(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.text(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar() {
            Some(scalar) => visitor.visit_borrowed_bytes(scalar.text.as_bytes()),
            None => Err(self.mismatch(&visitor)),
        }
        .map_err(|error| error.locate(self.0))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar().is_some_and(Scalar::is_null) {
            true => visitor.visit_none(),
            false => visitor.visit_some(self),
        }
        .map_err(|error| error.locate(self.0))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.null(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.null(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor
            .visit_newtype_struct(self)
            .map_err(|error| error.locate(self.0))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Sequence(items) => visit_seq(items, visitor),
            _ if self.is_left_empty() => visit_seq(&[], visitor),
            _ => Err(self.mismatch(&visitor)),
        }
        .map_err(|error| error.locate(self.0))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Mapping(entries) => visitor.visit_map(Entries::new(entries, self.1)),
            _ if self.is_left_empty() => visitor.visit_map(Entries::new(&[], &[])),
            _ => Err(self.mismatch(&visitor)),
        }
        .map_err(|error| error.locate(self.0))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Scalar(_) => visitor.visit_enum(Variant {
                name: self.0,
                content: None,
            }),
            Value::Mapping(entries) if entries.len() == 1 => visitor.visit_enum(Variant {
                name: &entries[0].0,
                content: Some(&entries[0].1),
            }),
            _ => Err(self.mismatch(&visitor)),
        }
        .map_err(|error| error.locate(self.0))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor
            .visit_unit::<DeError>()
            .map_err(|error| error.locate(self.0))
    }
}

fn visit_seq<'de, V: Visitor<'de>>(items: &'de [Node], visitor: V) -> Result<V::Value, DeError> {
    let mut access = Items { items, next: 0 };
    let value = visitor.visit_seq(&mut access)?;
    if access.next < items.len() {
        // A tuple that stops early would otherwise drop the rest unseen.
        return Err(de::Error::invalid_length(
            items.len(),
            &TakenItems(access.next),
        ));
    }
    Ok(value)
}

struct TakenItems(usize);

impl Expected for TakenItems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} items", self.0)
    }
}

struct Items<'de> {
    items: &'de [Node],
    next: usize,
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(item) = self.items.get(self.next) else {
            return Ok(None);
        };
        let index = self.next;
        self.next += 1;
        seed.deserialize(NodeDe(item, &[]))
            .map(Some)
            .map_err(|error| error.within_index(index))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}

struct Entries<'de> {
    entries: std::slice::Iter<'de, (Node, Node)>,
    value: Option<(&'de Node, &'de Node)>,
    skip: &'static [&'static str],
}

impl<'de> Entries<'de> {
    fn new(entries: &'de [(Node, Node)], skip: &'static [&'static str]) -> Entries<'de> {
        Entries {
            entries: entries.iter(),
            value: None,
            skip,
        }
    }
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = DeError;

    /// A key's errors (an unknown field) keep the mapping's path but point
    /// at the key, so no segment is added here.
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let skipped =
            |(key, _): &&(Node, Node)| key.as_str().is_some_and(|k| self.skip.contains(&k));
        let Some((key, value)) = self.entries.by_ref().find(|entry| !skipped(entry)) else {
            return Ok(None);
        };
        self.value = Some((key, value));
        seed.deserialize(NodeDe(key, &[])).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, value) = self
            .value
            .take()
            .expect("serde asks for a value only after its key");
        seed.deserialize(NodeDe(value, &[]))
            .map_err(|error| error.within_key(key))
    }

    fn size_hint(&self) -> Option<usize> {
        self.skip.is_empty().then(|| self.entries.len())
    }
}

/// An enum written as a bare name, or as a mapping of one name to content.
struct Variant<'de> {
    name: &'de Node,
    content: Option<&'de Node>,
}

impl<'de> EnumAccess<'de> for Variant<'de> {
    type Error = DeError;
    type Variant = Variant<'de>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Variant<'de>), DeError> {
        let tag = match (self.content, self.name.as_str()) {
            (Some(_), Some(key)) => seed
                .deserialize(BorrowedStrDeserializer::<VariantKey>::new(key))
                .map_err(|VariantKey(error)| error.locate(self.name))?,
            _ => seed.deserialize(NodeDe(self.name, &[]))?,
        };
        Ok((tag, self))
    }
}

/// The error of a variant written as a key (`{name: content}`): that is a
/// name the user chose, like a field's, so an unknown one is named. Serde's
/// `unknown_variant` cannot say where the name came from, so the key gets
/// an error type of its own; everything else is [`DeError`]'s.
#[derive(Debug)]
struct VariantKey(DeError);

impl fmt::Display for VariantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for VariantKey {}

impl de::Error for VariantKey {
    fn custom<T: fmt::Display>(message: T) -> VariantKey {
        VariantKey(DeError::custom(message))
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> VariantKey {
        VariantKey(DeError::invalid_type(unexpected, expected))
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> VariantKey {
        VariantKey(DeError::invalid_value(unexpected, expected))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> VariantKey {
        VariantKey(DeError::custom(format_args!(
            "unknown variant `{variant}`, {}",
            one_of(expected, "variants")
        )))
    }
}

impl<'de> Variant<'de> {
    fn content(&self, expected: &dyn Expected) -> Result<NodeDe<'de>, DeError> {
        self.content
            .map(|node| NodeDe(node, &[]))
            .ok_or_else(|| de::Error::invalid_type(Unexpected::UnitVariant, expected))
    }

    fn within(&self, error: DeError) -> DeError {
        error.within_key(self.name)
    }
}

impl<'de> VariantAccess<'de> for Variant<'de> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.content {
            None => Ok(()),
            Some(content) => {
                de::Deserialize::deserialize(NodeDe(content, &[])).map_err(|e| self.within(e))
            }
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        let content = self.content(&"a mapping of the variant to its content")?;
        seed.deserialize(content).map_err(|e| self.within(e))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        let content = self.content(&visitor)?;
        de::Deserializer::deserialize_seq(content, visitor).map_err(|e| self.within(e))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let content = self.content(&visitor)?;
        de::Deserializer::deserialize_map(content, visitor).map_err(|e| self.within(e))
    }
}
