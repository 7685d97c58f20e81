//! The scope catalog and `ScopeSet`, a bitset over it.
//!
//! The catalog is closed once the process starts (at most 64 entries), so a set is one machine word and
//! effective access is one AND. Scope text is parsed only when a credential loads.

use std::collections::HashMap;
use std::fmt;

pub const MAX_SCOPES: usize = 64;

/// RomM's 20 scopes, in its order (read, write, admin).
pub const ROMM_SCOPES: [&str; 20] = [
    "me.read",
    "roms.read",
    "platforms.read",
    "assets.read",
    "devices.read",
    "firmware.read",
    "roms.user.read",
    "collections.read",
    "me.write",
    "assets.write",
    "devices.write",
    "roms.user.write",
    "collections.write",
    "roms.write",
    "platforms.write",
    "firmware.write",
    "users.read",
    "users.write",
    "tasks.run",
    "logs.read",
];

/// A set of scopes from one catalog: bit i is catalog entry i.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(pub u64);

impl ScopeSet {
    pub const EMPTY: Self = Self(0);

    pub const fn and(self, o: Self) -> Self {
        Self(self.0 & o.0)
    }

    pub const fn or(self, o: Self) -> Self {
        Self(self.0 | o.0)
    }

    pub const fn minus(self, o: Self) -> Self {
        Self(self.0 & !o.0)
    }

    /// True when every scope of `need` is in `self`.
    pub const fn covers(self, need: Self) -> bool {
        need.0 & !self.0 == 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScopeError {
    #[error("unknown scope(s): {}", .0.join(" "))]
    Unknown(Vec<String>),
    #[error("the scope catalog holds at most {MAX_SCOPES} scopes, got {0}")]
    TooMany(usize),
    #[error("scope {0:?} is listed twice in the catalog")]
    Duplicate(String),
    #[error("scope {0:?} is not a valid scope name")]
    BadName(String),
    #[error("scope {scope:?} implies {implied:?}, which is not in the catalog")]
    UnknownImplication { scope: String, implied: String },
}

/// One catalog entry: its name and the scopes it implies directly.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    pub name: String,
    #[serde(default)]
    pub implies: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ScopeCatalog {
    names: Vec<String>,
    index: HashMap<String, u8>,
    /// For each bit, the closed set it implies (itself included).
    closure: Vec<u64>,
}

impl ScopeCatalog {
    /// Builds a catalog. Besides each entry's own `implies`, `X.write` implies `X.read` whenever both exist.
    pub fn new(entries: &[CatalogEntry]) -> Result<Self, ScopeError> {
        if entries.len() > MAX_SCOPES {
            return Err(ScopeError::TooMany(entries.len()));
        }
        let mut index = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if !valid_scope_name(&e.name) {
                return Err(ScopeError::BadName(e.name.clone()));
            }
            let bit = u8::try_from(i).map_err(|_| ScopeError::TooMany(entries.len()))?;
            if index.insert(e.name.clone(), bit).is_some() {
                return Err(ScopeError::Duplicate(e.name.clone()));
            }
        }
        let mut direct = vec![0u64; entries.len()];
        for (i, e) in entries.iter().enumerate() {
            direct[i] |= 1 << i;
            if let Some(stem) = e.name.strip_suffix(".write") {
                if let Some(&r) = index.get(&format!("{stem}.read")) {
                    direct[i] |= 1 << r;
                }
            }
            for implied in &e.implies {
                let bit = index.get(implied).ok_or_else(|| ScopeError::UnknownImplication {
                    scope: e.name.clone(),
                    implied: implied.clone(),
                })?;
                direct[i] |= 1 << bit;
            }
        }
        // Transitive closure; the catalog is tiny, so iterate to a fixpoint.
        let mut closure = direct.clone();
        loop {
            let mut changed = false;
            for c in closure.iter_mut() {
                let mut acc = *c;
                for (j, d) in direct.iter().enumerate() {
                    if acc & (1 << j) != 0 {
                        acc |= d;
                    }
                }
                if acc != *c {
                    *c = acc;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        Ok(Self {
            names: entries.iter().map(|e| e.name.clone()).collect(),
            index,
            closure,
        })
    }

    /// RomM's catalog with users.read ⇒ me.read and users.write ⇒ me.write.
    pub fn romm_default() -> Self {
        let entries: Vec<CatalogEntry> = ROMM_SCOPES
            .iter()
            .map(|n| CatalogEntry {
                name: (*n).to_owned(),
                implies: match *n {
                    "users.read" => vec!["me.read".to_owned()],
                    "users.write" => vec!["me.write".to_owned()],
                    _ => vec![],
                },
            })
            .collect();
        // The default catalog is a constant; it cannot fail validation.
        Self::new(&entries).unwrap_or_else(|_| Self {
            names: vec![],
            index: HashMap::new(),
            closure: vec![],
        })
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn all(&self) -> ScopeSet {
        if self.names.len() == MAX_SCOPES {
            ScopeSet(u64::MAX)
        } else {
            ScopeSet((1u64 << self.names.len()) - 1)
        }
    }

    pub fn get(&self, name: &str) -> Option<ScopeSet> {
        self.index.get(name).map(|&b| ScopeSet(1 << b))
    }

    /// Adds every implied scope.
    pub fn normalize(&self, set: ScopeSet) -> ScopeSet {
        let mut out = set.0;
        for (i, c) in self.closure.iter().enumerate() {
            if set.0 & (1 << i) != 0 {
                out |= c;
            }
        }
        ScopeSet(out)
    }

    /// Parses names separated by spaces (or given one by one), refusing unknown names. Not normalised.
    pub fn parse_names<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Result<ScopeSet, ScopeError> {
        let mut set = 0u64;
        let mut unknown = Vec::new();
        for n in names.into_iter().filter(|n| !n.is_empty()) {
            match self.index.get(n) {
                Some(&b) => set |= 1 << b,
                None => unknown.push(n.to_owned()),
            }
        }
        if unknown.is_empty() {
            Ok(ScopeSet(set))
        } else {
            Err(ScopeError::Unknown(unknown))
        }
    }

    /// Parses the canonical space-separated text form.
    pub fn parse(&self, text: &str) -> Result<ScopeSet, ScopeError> {
        self.parse_names(text.split(' '))
    }

    pub fn names(&self, set: ScopeSet) -> Vec<&str> {
        self.names
            .iter()
            .enumerate()
            .filter(|(i, _)| set.0 & (1 << i) != 0)
            .map(|(_, n)| n.as_str())
            .collect()
    }

    /// Canonical text: catalog order, single spaces.
    pub fn to_text(&self, set: ScopeSet) -> String {
        // Set bits walked directly into one buffer: this runs for every introspection answer.
        let mut out = String::with_capacity(16 * set.0.count_ones() as usize);
        let mut bits = set.0;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let Some(name) = self.names.get(i) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(name);
            }
        }
        out
    }
}

fn valid_scope_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-' | b':'))
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalog_has_romm_scopes_and_implications() {
        let c = ScopeCatalog::romm_default();
        assert_eq!(c.len(), 20);
        let w = c.parse("users.write").unwrap();
        assert_eq!(
            c.to_text(c.normalize(w)),
            "me.read me.write users.read users.write"
        );
        let r = c.parse("roms.write").unwrap();
        assert_eq!(c.to_text(c.normalize(r)), "roms.read roms.write");
    }

    #[test]
    fn unknown_scopes_are_named() {
        let c = ScopeCatalog::romm_default();
        assert_eq!(
            c.parse("me.read nope also.bad"),
            Err(ScopeError::Unknown(vec!["nope".into(), "also.bad".into()]))
        );
    }

    #[test]
    fn text_is_canonical_and_round_trips() {
        let c = ScopeCatalog::romm_default();
        let s = c.parse("logs.read   me.read").unwrap();
        assert_eq!(c.to_text(s), "me.read logs.read");
        assert_eq!(c.parse(&c.to_text(s)).unwrap(), s);
        assert_eq!(c.to_text(c.all()).split(' ').count(), 20);
    }

    #[test]
    fn set_algebra() {
        let c = ScopeCatalog::romm_default();
        let a = c.parse("me.read roms.read").unwrap();
        let b = c.parse("roms.read logs.read").unwrap();
        assert_eq!(c.to_text(a.and(b)), "roms.read");
        assert!(a.covers(c.parse("me.read").unwrap()));
        assert!(!a.covers(b));
        assert_eq!(c.to_text(a.minus(b)), "me.read");
    }

    #[test]
    fn custom_catalog_checks_itself() {
        let e = |n: &str, i: &[&str]| CatalogEntry {
            name: n.into(),
            implies: i.iter().map(|s| (*s).to_owned()).collect(),
        };
        let c =
            ScopeCatalog::new(&[e("a.read", &[]), e("a.write", &[]), e("b.admin", &["a.write"])]).unwrap();
        assert_eq!(
            c.to_text(c.normalize(c.parse("b.admin").unwrap())),
            "a.read a.write b.admin"
        );
        assert!(matches!(
            ScopeCatalog::new(&[e("a", &[]), e("a", &[])]),
            Err(ScopeError::Duplicate(_))
        ));
        assert!(matches!(
            ScopeCatalog::new(&[e("a", &["zz"])]),
            Err(ScopeError::UnknownImplication { .. })
        ));
        let many: Vec<_> = (0..65).map(|i| e(&format!("s{i}"), &[])).collect();
        assert!(matches!(ScopeCatalog::new(&many), Err(ScopeError::TooMany(65))));
    }
}
