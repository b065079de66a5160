//! What the server sends, as the machine takes it: text frames (`auth_ok`, events, `pong`, `resync`,
//! errors), polled pages, and the delivery of each event once, in seq order.

use protocol::{ClientMsg, EventsPage, Seq, ServerMsg};

use super::*;

impl Connection {
    pub(super) fn on_message(&mut self, text: &str, now: Millis) {
        if !matches!(self.state, State::Authenticating { .. } | State::Open { .. }) {
            return;
        }
        self.counters.messages_received += 1;
        // Any frame proves the connection alive, even one we cannot use.
        if let State::Open { pong_deadline, .. } = &mut self.state {
            *pong_deadline = None;
        }
        if text.len() > self.config.max_message_bytes {
            self.counters.oversized_messages += 1;
            return;
        }
        let Ok(msg) = serde_json::from_str(text).and_then(|value| ServerMsg::from_json(&value)) else {
            self.counters.malformed_messages += 1;
            return;
        };
        let open = matches!(self.state, State::Open { .. });
        match msg {
            ServerMsg::AuthOk { seq, topics, .. } => self.on_auth_ok(seq, topics.is_some(), now),
            ServerMsg::Error { code, message } => {
                self.counters.server_errors += 1;
                self.last_error = Some(format!("{code}: {message}"));
            }
            ServerMsg::Resync if open => {
                // The replay is out of reach; the refetch covers everything up to this connection's
                // auth_ok seq, and live events after it still arrive on this socket.
                self.resync(self.last_seq.max(self.auth_seq));
            }
            event if open => self.accept_event(event),
            // Pong, Subscribed, and anything before auth_ok: nothing to do beyond the liveness above.
            _ => {}
        }
    }

    /// `took_start`: the server subscribed and resumed as the auth frame asked (it echoed the topics).
    pub(super) fn on_auth_ok(&mut self, seq: Seq, took_start: bool, now: Millis) {
        // A second auth_ok on an open socket acknowledges a token renewal: nothing to redo.
        if !matches!(self.state, State::Authenticating { .. }) {
            return;
        }
        self.state = State::Open { since: now, next_ping: now + self.config.ping_interval, pong_deadline: None };
        self.rejected_once = false;
        self.consecutive_failures = 0;
        self.auth_seq = Some(seq);
        if self.transport == Transport::Polling {
            self.transport = Transport::WebSocket;
            self.next_poll_at = None;
            // A late poll answer is ignored: the Resume below covers the same events.
            self.poll_in_flight = false;
        }
        if took_start {
            match self.last_seq {
                None => self.last_seq = Some(seq),
                // The server answers `resync` too; the history restarted below what we applied.
                Some(last) if seq < last => self.resync(Some(seq)),
                // The server replays after `last` on its own.
                Some(_) => {}
            }
            return;
        }
        if !self.topics.is_empty() {
            let topics = self.topics();
            self.actions.push_back(Action::Send(ClientMsg::Subscribe { topics }));
        }
        match self.last_seq {
            // First contact: the data layer has just fetched, so start from here; nothing to replay.
            None => self.last_seq = Some(seq),
            // The server's history restarted below what we applied: replay is meaningless.
            Some(last) if seq < last => self.resync(Some(seq)),
            Some(last) => self.actions.push_back(Action::Send(ClientMsg::Resume { last_seq: last })),
        }
    }

    pub(super) fn on_poll_result(&mut self, result: Result<EventsPage, String>, now: Millis) {
        if !self.poll_in_flight {
            return;
        }
        self.poll_in_flight = false;
        self.next_poll_at = Some(now + self.polling_interval());
        let page = match result {
            Ok(page) => page,
            Err(error) => {
                self.counters.poll_failures += 1;
                self.last_error = Some(format!("poll failed: {error}"));
                return;
            }
        };
        match self.last_seq {
            // First contact by polling: whatever the data layer fetched may predate this page by several
            // failed attempts, so refetch rather than guess which of `events` it already has.
            None => self.resync(Some(page.last_seq)),
            Some(last) if page.resync || page.last_seq < last => self.resync(Some(page.last_seq)),
            Some(_) => {
                for event in page.events {
                    self.accept_event(event);
                }
                // The page covers every event up to `last_seq` this user may see.
                self.last_seq = self.last_seq.max(Some(page.last_seq));
            }
        }
    }

    /// The single dedup path of both transports: drops control frames and seqs already applied, advances
    /// `last_seq`, delivers events of wanted topics.
    pub(super) fn accept_event(&mut self, event: ServerMsg) {
        let Some(seq) = event.seq() else { return };
        if self.last_seq.is_some_and(|last| seq <= last) {
            self.counters.duplicates_dropped += 1;
            return;
        }
        self.last_seq = Some(seq);
        if event.topic().is_some_and(|t| self.topics.contains_key(&t)) {
            self.counters.events_delivered += 1;
            self.actions.push_back(Action::Deliver(event));
        }
    }

    pub(super) fn resync(&mut self, newest: Option<Seq>) {
        self.counters.resyncs += 1;
        self.last_seq = newest;
        self.actions.push_back(Action::Resync);
    }
}
