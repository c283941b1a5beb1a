//! The prediction: from two parties' configurations, every message and alert each side sends on
//! each connection, written from the specification's key resolution (BT-KEY-3), validation
//! (BT-KEY-4 … BT-KEY-12), negotiation and resumption rules.

use super::*;
use btls::conn::Side;
use std::collections::BTreeMap;

/// Where a party found a peer key (BT-KEY-3), or that the peer sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Cache,
    Known,
    Registry,
    Sent,
}

/// What one party keeps between connections.
#[derive(Debug, Clone, Default)]
struct Memory {
    /// Learned peer keys (BT-CACHE-1), by algorithm (each algorithm has one handle pair).
    cache: BTreeMap<Alg, Variant>,
    /// The stored session: its key algorithm and suite (BT-RES-1).
    session: Option<(Alg, Suite)>,
    /// The first-use store's key for the peer's one registration (BT-KEY-13): its algorithm
    /// and whether it is the impostor's key pair (every other variant shares the real one).
    first_use: Option<(Alg, bool)>,
}

/// BT-KEY-3: known keys, cache, registry.
fn resolve(party: &PartyModel, memory: &Memory, alg: Alg) -> Option<(Variant, Source)> {
    let find = |list: &[(Alg, Variant)]| list.iter().find(|(a, _)| *a == alg).map(|(_, v)| *v);
    if let Some(v) = find(&party.known) {
        return Some((v, Source::Known));
    }
    if let Some(v) = memory.cache.get(&alg) {
        return Some((*v, Source::Cache));
    }
    find(&party.registry).map(|v| (v, Source::Registry))
}

/// BT-KEY-4's order: trust (BT-KEY-9, 10, 13) first, then the algorithm policy (BT-KEY-7) and
/// the validity period (BT-KEY-8); 5 and 6 cannot fail for fixture keys. A cached key is judged
/// like any other (it was learned under the same configuration, so it passes again); a known key
/// is trusted by rule (b).
fn validate(
    party: &PartyModel,
    memory: &Memory,
    alg: Alg,
    variant: Variant,
    source: Source,
) -> Result<(), Reason> {
    // BT-KEY-13: an unsigned key is trusted on first use only if its registration has no
    // other key in the first-use store.
    let first_use = memory
        .first_use
        .is_none_or(|k| k == (alg, variant == Variant::Impostor));
    if source != Source::Known {
        match variant {
            Variant::Signed if party.trust_registry => {} // (c)
            Variant::Signed | Variant::BadSig => return Err(Reason::BadRegistrySignature), // BT-KEY-10
            _ if party.accept_unsigned && first_use => {} // (d), BT-KEY-13
            _ => return Err(Reason::UntrustedKey),
        }
    }
    if !party.allow.contains(&alg) {
        return Err(Reason::AlgorithmNotAllowed); // BT-KEY-7
    }
    if variant == Variant::Expired {
        return Err(Reason::ExpiredKey); // BT-KEY-8
    }
    Ok(())
}

/// Predicts every connection of `config`: the first, and a second one when `reconnect` is set
/// and the first completes.
pub fn predict(config: &ModelConfig) -> Prediction {
    let mut client = Memory::default();
    let mut server = Memory::default();
    let first = predict_connection(config, &mut client, &mut server);
    let again = config.reconnect && first.negotiated.is_some();
    let mut connections = vec![first];
    if again {
        connections.push(predict_connection(config, &mut client, &mut server));
    }
    Prediction { connections }
}

fn fail_with(trace: Vec<(Side, Msg)>, path: Path) -> ConnPrediction {
    ConnPrediction {
        trace,
        path,
        negotiated: None,
    }
}

/// One connection, updating what each side keeps.
fn predict_connection(
    config: &ModelConfig,
    client_memory: &mut Memory,
    server_memory: &mut Memory,
) -> ConnPrediction {
    use Side::{Client as C, Server as S};
    let (client, server) = (&config.client, &config.server);
    let mut trace = Vec::new();
    // BT-RES-2: a session is offered only to an expected server, naming the session's key.
    let offer = client_memory
        .session
        .filter(|_| client.resumption && config.expect_server == Expect::Right);
    let Some(mut alg) = offer
        .map(|(a, _)| a)
        .or_else(|| client.keys.first().map(|(a, _)| *a))
    else {
        return fail_with(trace, Path::ClientNoUntriedAlgorithm);
    };
    let mut session = offer.is_some();
    let mut tried = Vec::new();
    loop {
        trace.push((
            C,
            Msg::ClientHello {
                alg: Some(alg),
                session,
            },
        ));
        tried.push(alg);
        // BT-HS-28: BT-HS-4 (algorithm), then BT-HS-5 (suites).
        if server.own(alg).is_none() {
            trace.push((S, Msg::Alert(Alert::FailedHandshake)));
            return fail_with(trace, Path::ServerNoKeyForAlgorithm);
        }
        // BT-HS-14: the server's first suite the client offered.
        let Some(suite) = server
            .suites
            .iter()
            .copied()
            .find(|s| client.suites.contains(s))
        else {
            trace.push((S, Msg::Alert(Alert::FailedHandshake)));
            return fail_with(trace, Path::ServerNoCommonSuite);
        };
        // BT-RES-3: resume when the server holds the session and resumption is on.
        if let (true, true, Some((s_alg, s_suite))) =
            (session, server.resumption, server_memory.session)
        {
            if s_alg == alg && client.suites.contains(&s_suite) {
                trace.push((
                    S,
                    Msg::ServerHello {
                        alg: Some(alg),
                        session: true,
                    },
                ));
                trace.push((S, Msg::ServerReady));
                trace.push((C, Msg::ClientReady));
                trace.push((C, Msg::Alert(Alert::CloseNotify)));
                trace.push((S, Msg::Alert(Alert::CloseNotify)));
                return ConnPrediction {
                    trace,
                    path: Path::Resumed,
                    negotiated: Some(Negotiated {
                        alg,
                        suite: s_suite,
                        resumed: true,
                    }),
                };
            }
        }
        // BT-HS-6, BT-HS-7: the server resolves and validates the client key.
        let own_client = client.own(alg).unwrap_or(Variant::Plain);
        let (client_key_at_server, client_source) = match resolve(server, server_memory, alg) {
            Some(found) => found,
            None => {
                trace.push((S, Msg::SendKey));
                trace.push((C, Msg::SendingKey));
                (own_client, Source::Sent)
            }
        };
        if let Err(reason) = validate(
            server,
            server_memory,
            alg,
            client_key_at_server,
            client_source,
        ) {
            trace.push((S, Msg::FailedValidation(reason)));
            trace.push((S, Msg::Alert(Alert::FailedHandshake)));
            return fail_with(trace, Path::ServerRejectsKey(reason));
        }
        if client_source == Source::Sent {
            trace.push((S, Msg::SuccessfulValidation));
        }
        trace.push((
            S,
            Msg::ServerHello {
                alg: Some(alg),
                session: false,
            },
        ));
        // BT-HS-29: identity (BT-KEY-11) before the key is resolved (BT-HS-15).
        if config.expect_server == Expect::Wrong {
            trace.push((C, Msg::FailedValidation(Reason::UnexpectedIdentity)));
            trace.push((C, Msg::Alert(Alert::FailedHandshake)));
            return fail_with(trace, Path::ClientRejectsKey(Reason::UnexpectedIdentity));
        }
        let own_server = server.own(alg).unwrap_or(Variant::Plain);
        let (server_key_at_client, server_source) = match resolve(client, client_memory, alg) {
            Some(found) => found,
            None => {
                trace.push((C, Msg::SendKey));
                if !config.send_key {
                    // BT-HS-9, BT-HS-16: retry with a key of an untried algorithm.
                    trace.push((S, Msg::CannotSendKey));
                    match client.keys.iter().find(|(a, _)| !tried.contains(a)) {
                        Some((next, _)) => {
                            alg = *next;
                            session = false;
                            continue;
                        }
                        None => {
                            trace.push((C, Msg::Alert(Alert::FailedHandshake)));
                            return fail_with(trace, Path::ClientNoUntriedAlgorithm);
                        }
                    }
                }
                trace.push((S, Msg::SendingKey));
                (own_server, Source::Sent)
            }
        };
        if let Err(reason) = validate(
            client,
            client_memory,
            alg,
            server_key_at_client,
            server_source,
        ) {
            trace.push((C, Msg::FailedValidation(reason)));
            trace.push((C, Msg::Alert(Alert::FailedHandshake)));
            return fail_with(trace, Path::ClientRejectsKey(reason));
        }
        trace.push((C, Msg::SuccessfulValidation));
        // BT-HS-12, BT-HS-18, BT-HS-20: SESSION_DETAILS is signed with the server's key.
        trace.push((S, Msg::SessionDetails));
        if server_key_at_client == Variant::Impostor {
            trace.push((C, Msg::Alert(Alert::DecryptError)));
            return fail_with(trace, Path::ClientBadSignature);
        }
        // BT-HS-21: CLIENT_READY is signed with the client's key.
        trace.push((C, Msg::ClientReady));
        if client_key_at_server == Variant::Impostor {
            trace.push((S, Msg::Alert(Alert::DecryptError)));
            return fail_with(trace, Path::ServerBadSignature);
        }
        trace.push((S, Msg::ServerReady));
        trace.push((C, Msg::Alert(Alert::CloseNotify)));
        trace.push((S, Msg::Alert(Alert::CloseNotify)));
        // BT-CACHE-1: keys obtained by SENDING_KEY or a registry are cached on completion.
        if matches!(client_source, Source::Sent | Source::Registry) {
            server_memory.cache.insert(alg, client_key_at_server);
        }
        if matches!(server_source, Source::Sent | Source::Registry) {
            client_memory.cache.insert(alg, server_key_at_client);
        }
        // BT-KEY-13 (SPEC §13 item 25): with trust on first use on, the store learns the peer
        // key of every completed full handshake, however it was trusted; a registration it
        // holds keeps its first key.
        for (party, memory, key) in [
            (server, &mut *server_memory, client_key_at_server),
            (client, &mut *client_memory, server_key_at_client),
        ] {
            if party.accept_unsigned && memory.first_use.is_none() {
                memory.first_use = Some((alg, key == Variant::Impostor));
            }
        }
        // BT-RES-1: sessions are stored after a full handshake with resumption on.
        if server.resumption {
            server_memory.session = Some((alg, suite));
        }
        if client.resumption && config.expect_server == Expect::Right {
            client_memory.session = Some((alg, suite));
        }
        let path = if session {
            Path::ResumptionDeclined
        } else if tried.len() > 1 {
            Path::CompleteAfterRetry
        } else {
            Path::Complete
        };
        return ConnPrediction {
            trace,
            path,
            negotiated: Some(Negotiated {
                alg,
                suite,
                resumed: false,
            }),
        };
    }
}

/// The frames of `trace` that `from` sends, in order.
pub fn sent_by(trace: &[(Side, Msg)], from: Side) -> Vec<Msg> {
    trace
        .iter()
        .filter(|(s, _)| *s == from)
        .map(|(_, m)| m.clone())
        .collect()
}

/// One line per frame: `client → CLIENT_HELLO(…)`.
pub fn show_trace(trace: &[(Side, Msg)]) -> String {
    trace
        .iter()
        .map(|(s, m)| {
            let who = match s {
                Side::Client => "client →",
                Side::Server => "        ← server",
            };
            format!("  {who} {m}\n")
        })
        .collect()
}

/// The model's reading of one frame (header and, for hellos and FAILED_VALIDATION, the fields
/// it tells apart); `None` for APPLICATION frames, which it does not model.
pub fn classify(frame: &[u8]) -> Option<Msg> {
    let (&ct, &sub) = (frame.first()?, frame.get(1)?);
    let body = frame
        .get(btls::msgs::FRAME_HEADER_LEN..)
        .unwrap_or_default();
    let hello = |client: bool| {
        // version(2) random(32) session_id<0..32> key_algorithm(2)
        let sid = body.get(34).copied();
        let session = sid.is_some_and(|n| n > 0);
        let at = 35 + usize::from(sid.unwrap_or(0));
        let alg = body
            .get(at..at + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .and_then(|b| Alg::from_wire(u16::from_be_bytes(b)));
        if client {
            Msg::ClientHello { alg, session }
        } else {
            Msg::ServerHello { alg, session }
        }
    };
    Some(match (ct, sub) {
        (1, 0x01) => hello(true),
        (1, 0x02) => hello(false),
        (1, 0x03) => Msg::SendKey,
        (1, 0x04) => Msg::SendingKey,
        (1, 0x05) => Msg::CannotSendKey,
        (1, 0x06) => Msg::SuccessfulValidation,
        (1, 0x07) => Msg::FailedValidation(Reason::from_wire(body.first().copied().unwrap_or(0))),
        (1, 0x08) => Msg::SessionDetails,
        (1, 0x09) => Msg::ClientReady,
        (1, 0x0A) => Msg::ServerReady,
        (2, 0) => Msg::Alert(Alert::CloseNotify),
        (2, 40) => Msg::Alert(Alert::FailedHandshake),
        (2, 51) => Msg::Alert(Alert::DecryptError),
        (2, d) => Msg::Alert(Alert::Other(d)),
        (3, _) => return None,
        _ => Msg::Other(crate::wire::describe(frame)),
    })
}
