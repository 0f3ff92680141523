//! The inventory's JSON Schema: the raw types the parser reads, completed from the format and document lists.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::raw::RawTop;
use crate::{documents, formats};

/// The JSON Schema (draft 7, which editors' YAML plugins read) of an inventory.
///
/// Its structure comes from the same serde types that parse the inventory; the names
/// of formats, documents, variants and versions, and each document's options block,
/// come from `formats::FORMATS` and `documents::DOCUMENTS`, so a new consumer appears
/// here without an edit.
pub fn schema() -> Value {
    let mut generator = SchemaSettings::draft07().into_generator();
    let mut options = Map::new();
    for kind in documents::DOCUMENTS {
        if let (Some(key), Some(block)) = (kind.options_key(), kind.options_schema(&mut generator))
        {
            options.insert(key.to_string(), block.to_value());
        }
    }
    let mut root = generator.root_schema_for::<RawTop>().to_value();
    let definitions = &mut root["definitions"];
    complete_target(&mut definitions["Target"], &options);
    complete_file(&mut definitions["File"], &options);
    root
}

/// `format`, `variant` and `version` as each format accepts them, and the options
/// blocks a document target may carry.
fn complete_target(target: &mut Value, options: &Map<String, Value>) {
    let mut names: Vec<&str> = formats::FORMATS.iter().map(|f| f.name()).collect();
    names.extend(documents::DOCUMENTS.iter().map(|k| k.name()));
    let mut variants: Vec<&str> = Vec::new();
    let mut per_format = Vec::new();
    for format in formats::FORMATS.iter().filter(|f| !f.versions().is_empty()) {
        let mut own: Vec<&str> = Vec::new();
        let mut versions: Vec<&str> = Vec::new();
        for v in format.versions() {
            for (list, value) in [(&mut own, v.variant), (&mut versions, v.version)] {
                if !list.contains(&value) {
                    list.push(value);
                }
            }
        }
        variants.extend(
            own.iter()
                .filter(|v| !variants.contains(v))
                .collect::<Vec<_>>(),
        );
        per_format.push(json!({
            "if": {"properties": {"format": {"const": format.name()}}, "required": ["format"]},
            "then": {
                "properties": {"variant": {"enum": own}, "version": {"enum": versions}},
                "required": ["variant", "version"]
            }
        }));
    }
    let properties = &mut target["properties"];
    properties["format"] = json!({
        "description": "A provisioning config that places documents on a node, or a document written as the target's file.",
        "enum": names,
    });
    let mut variants = json!(variants);
    variants.as_array_mut().unwrap().push(Value::Null);
    properties["variant"]["enum"] = variants;
    for (key, block) in options {
        properties[key] = block.clone();
    }
    target["allOf"] = Value::Array(per_format);
}

/// The documents a provisioning target can place, the deliveries, and the options
/// blocks a file entry may carry.
fn complete_file(file: &mut Value, options: &Map<String, Value>) {
    let placeable: Vec<&str> = documents::DOCUMENTS
        .iter()
        .filter(|k| k.placeable())
        .map(|k| k.name())
        .collect();
    let properties = &mut file["properties"];
    properties["document"] =
        json!({"description": "The document placed on the node.", "enum": placeable});
    properties["delivery"]["enum"] = json!(["inline", "remote", "local", null]);
    for (key, block) in options {
        properties[key] = block.clone();
    }
}
