//! A difference between the learned machine and the specification's as a scenario file: the
//! difference's inputs sent as the learning run sent them (`send` where the harness's side had
//! the message next, `inject` or a raw frame where it did not), and after each input what the
//! specification says the IUT sends. It passes against an implementation that follows the
//! specification and fails, at the differing step, against the one it was learned from.

use super::alphabet::{Input, CLOSE, CLOSED, NOTHING};
use super::iut_config;
use super::sul::{CandidateConfig, Sent, PING};
use crate::scenario::PartyConfig;
use harness_core::learn::{Difference, Mealy};
use harness_core::Role;
use std::fmt::Write as _;

/// How long an `expect_quiet_ms` step waits where the specification says the IUT sends nothing.
pub const QUIET_MS: u64 = 300;

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The requirement an expected answer checks.
fn requirement(input: Input, expected: &str) -> &'static str {
    match (input, expected) {
        (_, e) if e.starts_with("alert unexpected_message") => "BT-HS-24",
        (Input::BadSignature(c), _) if c.to_string() == "SESSION_DETAILS" => "BT-HS-20",
        (Input::BadSignature(_), _) => "BT-HS-21",
        (Input::BadMac(c), _) if c.to_string() == "SERVER_READY" => "BT-HS-23",
        (Input::BadMac(_), _) => "BT-HS-22",
        (_, NOTHING) => "BT-HS-11",
        (Input::CloseNotify, e) if e.contains("close_notify") => "BT-CLOSE-2",
        (Input::CloseNotify, _) => "BT-CLOSE-5",
        (Input::FatalAlert, _) => "BT-ALERT-4",
        (_, e) if e.starts_with("FAILED_VALIDATION") => "BT-KEY-5",
        (_, e) if e.starts_with("CLIENT_HELLO") || e.contains("failed_handshake") => "BT-HS-16",
        (_, "SEND_KEY" | "SUCCESSFUL_VALIDATION") => "BT-HS-15",
        (_, "SENDING_KEY") => "BT-HS-9",
        (_, "SESSION_DETAILS") => "BT-HS-12",
        (_, "SERVER_HELLO") => "BT-HS-6",
        (_, "SUCCESSFUL_VALIDATION + SERVER_HELLO") => "BT-HS-7",
        (_, "CLIENT_READY") => "BT-HS-18",
        (_, "SERVER_READY") => "BT-HS-21",
        _ => "BT-HS-24",
    }
}

/// A `[table]` of a party's configuration.
fn table(name: &str, config: &PartyConfig) -> Result<String, String> {
    let body = toml::to_string(config).map_err(|e| format!("[{name}]: {e}"))?;
    Ok(format!("[{name}]\n{body}\n"))
}

/// The steps that send `sent`.
fn input_step(sent: &Sent) -> String {
    let frame = |ct: u8, sub: u8, body: &[u8]| {
        format!(
            "send_frame = {{ content_type = {ct}, subcode = {sub}, body = \"{}\" }}",
            hex::encode(body)
        )
    };
    match (sent.input, sent.by_candidate) {
        (Input::Msg(c) | Input::HelloNewKey(c), true) => format!("send = \"{c}\""),
        (Input::Msg(c) | Input::HelloNewKey(c), false) => format!("inject = \"{c}\""),
        (Input::BadSignature(c) | Input::BadMac(c), true) => format!(
            "send = \"{c}\"\nalter = {{ flip_bit = {} }}",
            sent.flip_bit.unwrap_or(0)
        ),
        (Input::BadSignature(_) | Input::BadMac(_), false) => {
            format!("send_raw = \"{}\"", hex::encode(&sent.bytes))
        }
        (Input::Application, true) => format!("send_app = \"{}\"", hex::encode(PING)),
        (Input::Application, false) => frame(3, 0, PING),
        (Input::CloseNotify, true) => "close = true".into(),
        (Input::CloseNotify, false) => frame(2, 0, &[1]),
        (Input::FatalAlert, true) => "send_alert = { description = 40, level = 2 }".into(),
        (Input::FatalAlert, false) => frame(2, 40, &[2]),
        (Input::UnknownCode, _) => frame(1, 0x7f, &[]),
        (Input::UnknownContentType, _) => frame(9, 0, &[0]),
    }
}

/// The steps that expect `output`.
fn expect_steps(output: &str) -> Vec<String> {
    if output == NOTHING {
        return vec![format!("expect_quiet_ms = {QUIET_MS}")];
    }
    if output == CLOSED {
        return Vec::new();
    }
    output
        .split(" + ")
        .map(|t| match t {
            CLOSE => "expect_close = true".to_owned(),
            "APPLICATION" => format!("expect_app = \"{}\"", hex::encode(PING)),
            t => match t
                .strip_prefix("alert ")
                .map(|n| n.split(' ').next().unwrap_or(n))
            {
                Some(name) => format!("expect_alert = \"{name}\""),
                None => format!("expect = \"{t}\""),
            },
        })
        .collect()
}

/// The scenario file for `d`, found against `iut` in `role`; `trace` is how the learning run
/// sent the difference's inputs.
pub fn scenario(
    role: Role,
    iut: &str,
    spec: &Mealy,
    d: &Difference,
    trace: &[Sent],
    configs: &[CandidateConfig],
) -> Result<String, String> {
    let survivor = trace
        .iter()
        .rev()
        .find_map(|s| s.candidates.first().copied())
        .unwrap_or(0);
    let peer = configs
        .get(survivor)
        .ok_or_else(|| format!("no candidate {survivor}"))?;
    let inputs = super::alphabet::inputs(role);
    let expected = spec.run(&d.word);
    let last = *d.word.last().ok_or("an empty difference")?;
    let last_input = inputs[last];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by `btls-harness learn` against {iut}: the shortest input word on which"
    );
    let _ = writeln!(
        out,
        "# it differs from the specification's machine (SPEC.md §12). It passes against an"
    );
    let _ = writeln!(
        out,
        "# implementation that follows the specification and fails at the last input's"
    );
    let _ = writeln!(out, "# expectation against {iut}.\n");
    let _ = writeln!(out, "[scenario]");
    let _ = writeln!(
        out,
        "title = {}",
        quote(&format!(
            "After {}: {} (the IUT sent {})",
            d.inputs.join(", "),
            d.expected,
            d.actual
        ))
    );
    let _ = writeln!(
        out,
        "requirements = [\"{}\"]",
        requirement(last_input, &d.expected)
    );
    let _ = writeln!(out, "iut_role = \"{}\"", role.as_str());
    let _ = writeln!(
        out,
        "description = {}\n",
        quote(&format!(
            "Learned from {iut}: in the specification's state {}, {} gives {:?}; {iut} answered {:?}.",
            d.spec_state,
            inputs[last].name(),
            d.expected,
            d.actual
        ))
    );
    out.push_str(&table("iut", &iut_config())?);
    out.push_str(&table("peer", peer)?);
    // A client IUT's first frame comes before any input.
    if role == Role::Client {
        for step in expect_steps(super::spec::initial_output(role)) {
            let _ = writeln!(out, "[[step]]\n{step}\n");
        }
    }
    for (i, (&a, sent)) in d.word.iter().zip(trace).enumerate() {
        let _ = writeln!(out, "[[step]]\n{}", input_step(sent));
        let _ = writeln!(
            out,
            "comment = {}\n",
            quote(&format!("input {}: {}", i + 1, inputs[a].name()))
        );
        let mut steps = expect_steps(&expected[i]);
        // After the last input, nothing more: an extra frame is the difference too.
        let ends = expected[i] == NOTHING || expected[i] == CLOSED || expected[i].ends_with(CLOSE);
        if i + 1 == d.word.len() && !ends {
            steps.push(format!("expect_quiet_ms = {QUIET_MS}"));
        }
        for step in steps {
            let _ = writeln!(out, "[[step]]\n{step}\n");
        }
    }
    let established = (0..=d.word.len()).any(|n| {
        let (_, state) = spec.run_from(0, &d.word[..n]);
        spec.names[state] == "Established"
    });
    let clean = expected
        .last()
        .is_some_and(|o| o == "alert close_notify + close");
    let _ = writeln!(out, "[outcome]");
    let _ = writeln!(
        out,
        "iut_exit = \"{}\"",
        if clean { "success" } else { "failure" }
    );
    let _ = writeln!(out, "handshake_complete = {established}");
    Ok(out)
}
