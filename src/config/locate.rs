//! Line and column of a node in a YAML document, found with `yaml_serde`
//! itself: a deserializer walks down a path of keys and indices and fails on
//! purpose at the target node; `yaml_serde` attaches that node's position to
//! the error.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// One step of a path into the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A mapping key (scalar keys compared by their text).
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A path to a node plus whether the key of the last step is meant (for an
/// unknown key) rather than its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub path: Vec<Seg>,
    pub at_key: bool,
}

const MARKER: &str = "\u{0}playbook-config-locate";

/// 1-based (line, column) of the target in `text`. A node that is not
/// literally in the text (it came in through a `<<` merge key) is placed at
/// the key of its closest ancestor that is.
pub(crate) fn locate(text: &str, target: &Target) -> Option<(usize, usize)> {
    if let Some(found) = locate_exactly(text, target) {
        return Some(found);
    }
    (1..target.path.len()).rev().find_map(|n| {
        let parent = Target {
            path: target.path[..n].to_vec(),
            at_key: true,
        };
        locate_exactly(text, &parent)
    })
}

fn locate_exactly(text: &str, target: &Target) -> Option<(usize, usize)> {
    let de = serde_yaml::Deserializer::from_str(text);
    let seed = Locate {
        path: &target.path,
        at_key: target.at_key,
    };
    match seed.deserialize(de) {
        Ok(()) => None,
        Err(e) if e.to_string().contains(MARKER) => e.location().map(|l| (l.line(), l.column())),
        Err(_) => None,
    }
}

struct Locate<'p> {
    path: &'p [Seg],
    at_key: bool,
}

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Locate<'_> {
    fn here<E: de::Error>(&self) -> Result<(), E> {
        if self.path.is_empty() {
            Err(E::custom(MARKER))
        } else {
            Ok(())
        }
    }
}

impl<'de> Visitor<'de> for Locate<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.here()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.here()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.here()
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.here()
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.here()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.here()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.here()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.here()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.here()
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        // A tagged node: it can only be the target itself (tags are errors).
        if self.path.is_empty() {
            Err(de::Error::custom(MARKER))
        } else {
            Err(de::Error::custom("tagged node on the way"))
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.path.is_empty() {
            return Err(de::Error::custom(MARKER));
        }
        let mut i = 0;
        loop {
            let found = if self.path.first() == Some(&Seg::Index(i)) {
                seq.next_element_seed(Locate {
                    path: &self.path[1..],
                    at_key: self.at_key,
                })?
            } else {
                seq.next_element::<IgnoredAny>()?.map(|_| ())
            };
            if found.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.path.is_empty() {
            return Err(de::Error::custom(MARKER));
        }
        let wanted = match &self.path[0] {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        };
        let fail_on_key = if self.path.len() == 1 && self.at_key {
            wanted
        } else {
            None
        };
        while let Some(key) = map.next_key_seed(KeySeed {
            fail_on: fail_on_key,
        })? {
            if key.is_some() && key.as_deref() == wanted {
                map.next_value_seed(Locate {
                    path: &self.path[1..],
                    at_key: self.at_key,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Reads a mapping key as text; fails on purpose when it is `fail_on`.
struct KeySeed<'k> {
    fail_on: Option<&'k str>,
}

impl KeySeed<'_> {
    fn key<E: de::Error>(&self, text: String) -> Result<Option<String>, E> {
        if self.fail_on == Some(text.as_str()) {
            Err(E::custom(MARKER))
        } else {
            Ok(Some(text))
        }
    }
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<String>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<String>, E> {
        self.key(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Option<String>, E> {
        self.key(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<String>, E> {
        self.key(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<String>, E> {
        self.key(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<String>, E> {
        self.key(v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<String>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, path: &[&str], at_key: bool) -> Option<(usize, usize)> {
        let path = path.iter().map(|s| Seg::Key(s.to_string())).collect();
        locate(text, &Target { path, at_key })
    }

    #[test]
    fn finds_keys_and_values() {
        let text = "a: 1\nb:\n  c: x\n  d: { e: 5 }\n";
        assert_eq!(at(text, &["a"], true), Some((1, 1)));
        assert_eq!(at(text, &["a"], false), Some((1, 4)));
        assert_eq!(at(text, &["b", "c"], false), Some((3, 6)));
        assert_eq!(at(text, &["b", "d", "e"], true), Some((4, 8)));
        assert_eq!(at(text, &["b", "d", "e"], false), Some((4, 11)));
        assert_eq!(at(text, &["zz"], false), None);
        // A missing child falls back to its parent's key.
        assert_eq!(at(text, &["b", "zz"], false), Some((2, 1)));
    }

    #[test]
    fn finds_sequence_elements() {
        let text = "s:\n  - 1\n  - 2\n";
        let t = Target {
            path: vec![Seg::Key("s".into()), Seg::Index(1)],
            at_key: false,
        };
        assert_eq!(locate(text, &t), Some((3, 5)));
    }
}
