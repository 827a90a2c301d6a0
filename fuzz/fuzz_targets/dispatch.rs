//! The request path: decoded frames run through the real dispatch table and SQLite store as
//! one of three users; no input may panic or come back as an internal error.
#![no_main]
use std::sync::LazyLock;

use confab_server::fuzz_support::Dispatcher;
use libfuzzer_sys::fuzz_target;

static DISPATCHER: LazyLock<Dispatcher> = LazyLock::new(Dispatcher::new);

fuzz_target!(|data: &[u8]| DISPATCHER.run(data));
