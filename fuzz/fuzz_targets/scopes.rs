//! Scope strings: parsing never panics, and whatever parses round-trips through the canonical text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::ScopeCatalog;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let catalog = ScopeCatalog::romm_default();
    if let Ok(set) = catalog.parse(text) {
        let canonical = catalog.to_text(set);
        let again = catalog.parse(&canonical).expect("canonical text parses");
        assert_eq!(catalog.normalize(set), catalog.normalize(again));
    }
});
