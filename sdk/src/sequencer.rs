//! Delivering each conversation's messages once, in seq order, with gaps filled from history.
//!
//! [`Sequencer`] is pure bookkeeping: the connection task feeds it what arrives (pushed
//! messages, history pages, sync results, its own acknowledged sends) and carries out the
//! [`Step`]s it returns (deliver a message to the application, or pull a range of history).
//!
//! Per conversation it keeps the highest seq handed to the application (the *position*).
//! Positions start unknown: they are learnt from the first message that arrives, from a sync
//! the application asks for, and from a resync after reconnecting.
//!
//! - A message at or below the position is a duplicate and is dropped.
//! - The message right after the position is delivered.
//! - A message further ahead reveals a gap: it is held back, history after the position is
//!   pulled, and the held messages follow once the gap is filled. While a pull is in flight
//!   every new message of that conversation is held back the same way.
//! - In a conversation with no known position the first message is simply accepted.
//!
//! Messages this device sent itself are acknowledged by the send's answer, so their seqs are
//! noted as *own*: the position moves over them without delivering them again.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use confab_proto::{ConversationId, Message, Millis, Seq};

/// What the connection task must do next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// Hand this message to the application.
    Deliver(Message),
    /// Pull history with seq > `after`, oldest first, and report each page with
    /// [`Sequencer::on_page`].
    FetchAfter {
        conversation_id: ConversationId,
        after: Seq,
    },
    /// Pull the messages created at or after `since` (server clock) in a conversation with no
    /// known position, and report them together with [`Sequencer::on_page`].
    FetchSince {
        conversation_id: ConversationId,
        since: Millis,
    },
}

/// One conversation's delivery state.
#[derive(Debug, Default)]
struct Conversation {
    /// Highest seq handed to the application (or skipped as this device's own).
    position: Option<Seq>,
    /// Seqs of this device's acknowledged sends beyond the position.
    own: BTreeSet<Seq>,
    /// Set while a history pull is in flight: the position when it started.
    fetch: Option<Fetch>,
    /// Messages held back while a pull is in flight, by seq.
    held: BTreeMap<Seq, Message>,
}

#[derive(Debug, Clone, Copy)]
struct Fetch {
    started_at: Option<Seq>,
}

impl Conversation {
    fn is_duplicate(&self, seq: Seq) -> bool {
        self.position.is_some_and(|p| seq <= p)
    }

    /// Move the position over own seqs that directly follow it, and forget own seqs behind it.
    fn advance(&mut self) {
        let Some(mut position) = self.position else {
            return;
        };
        while let Some(&first) = self.own.first() {
            if first <= position {
                self.own.pop_first();
            } else if first == position + 1 {
                self.own.pop_first();
                position = first;
            } else {
                break;
            }
        }
        self.position = Some(position);
    }

    /// Take `message` as the new position; deliver it unless it is this device's own.
    fn accept(&mut self, message: Message, out: &mut Vec<Step>) {
        self.position = Some(self.position.map_or(message.seq, |p| p.max(message.seq)));
        if !self.own.remove(&message.seq) {
            out.push(Step::Deliver(message));
        }
        self.advance();
    }

    /// Start a pull of history after the current (known) position.
    fn start_fetch_after(&mut self, conversation_id: ConversationId, out: &mut Vec<Step>) {
        let after = self.position.unwrap_or(0);
        self.fetch = Some(Fetch {
            started_at: self.position,
        });
        out.push(Step::FetchAfter {
            conversation_id,
            after,
        });
    }

    /// After a pull is complete: hand over the held messages in order. If a gap remains and the
    /// pull made progress, pull again; if it made none, accept the held messages as they are
    /// rather than wait for seqs the server does not have.
    fn release_held(
        &mut self,
        conversation_id: ConversationId,
        progressed: bool,
        out: &mut Vec<Step>,
    ) {
        while let Some((seq, message)) = self.held.pop_first() {
            self.advance();
            match self.position {
                Some(p) if seq <= p => {}
                Some(p) if seq > p + 1 && progressed => {
                    self.held.insert(seq, message);
                    self.start_fetch_after(conversation_id, out);
                    return;
                }
                _ => self.accept(message, out),
            }
        }
    }
}

/// Per-conversation delivery positions. See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Sequencer {
    conversations: HashMap<ConversationId, Conversation>,
}

impl Sequencer {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The highest seq delivered (or known) for a conversation.
    #[cfg(test)]
    pub(crate) fn position(&self, conversation_id: ConversationId) -> Option<Seq> {
        self.conversations
            .get(&conversation_id)
            .and_then(|c| c.position)
    }

    /// Whether any history pull is in flight.
    pub(crate) fn is_fetching(&self) -> bool {
        self.conversations.values().any(|c| c.fetch.is_some())
    }

    /// A message pushed by the server.
    pub(crate) fn on_message(&mut self, message: Message) -> Vec<Step> {
        let mut out = Vec::new();
        let conversation_id = message.conversation_id;
        let conv = self.conversations.entry(conversation_id).or_default();
        conv.advance();
        if conv.is_duplicate(message.seq) {
            return out;
        }
        if conv.fetch.is_some() {
            conv.held.insert(message.seq, message);
            return out;
        }
        match conv.position {
            Some(p) if message.seq > p + 1 => {
                conv.held.insert(message.seq, message);
                conv.start_fetch_after(conversation_id, &mut out);
            }
            _ => conv.accept(message, &mut out),
        }
        out
    }

    /// This device's own send (or recall) was stored at `seq`: the application has it from the
    /// answer, so the position may move over it without delivering it.
    pub(crate) fn on_own(&mut self, conversation_id: ConversationId, seq: Seq) {
        let conv = self.conversations.entry(conversation_id).or_default();
        if !conv.is_duplicate(seq) {
            conv.own.insert(seq);
            conv.advance();
        }
    }

    /// The application ran a sync and saw `last_seq`: it knows the conversation up to there, so
    /// the position moves forward to it (never backwards). Ignored while a pull is in flight for
    /// that conversation.
    pub(crate) fn on_known(&mut self, conversation_id: ConversationId, last_seq: Seq) {
        let conv = self.conversations.entry(conversation_id).or_default();
        if conv.fetch.is_none() {
            conv.position = Some(conv.position.map_or(last_seq, |p| p.max(last_seq)));
            conv.advance();
        }
    }

    /// After a reconnect, the sync result: `(conversation, last_seq, last_activity)` for each
    /// conversation. `session_start` is the server time when the client first connected.
    ///
    /// - Known position behind `last_seq`: pull what was missed.
    /// - Unknown position, activity since the session started: pull the recent messages.
    /// - Unknown position, no activity since then: learn `last_seq` as the position.
    pub(crate) fn on_resync(
        &mut self,
        conversations: impl IntoIterator<Item = (ConversationId, Seq, Millis)>,
        session_start: Millis,
    ) -> Vec<Step> {
        let mut out = Vec::new();
        for (conversation_id, last_seq, last_activity) in conversations {
            let conv = self.conversations.entry(conversation_id).or_default();
            if conv.fetch.is_some() {
                continue;
            }
            conv.advance();
            match conv.position {
                Some(p) if last_seq > p => conv.start_fetch_after(conversation_id, &mut out),
                Some(_) => {}
                None if last_seq > 0 && last_activity >= session_start => {
                    conv.fetch = Some(Fetch { started_at: None });
                    out.push(Step::FetchSince {
                        conversation_id,
                        since: session_start,
                    });
                }
                None => {
                    conv.position = Some(last_seq);
                    conv.advance();
                }
            }
        }
        out
    }

    /// A page of pulled history (ascending seq). `has_more`: more messages follow in this
    /// direction.
    pub(crate) fn on_page(
        &mut self,
        conversation_id: ConversationId,
        mut messages: Vec<Message>,
        has_more: bool,
    ) -> Vec<Step> {
        let mut out = Vec::new();
        let conv = self.conversations.entry(conversation_id).or_default();
        let Some(fetch) = conv.fetch else {
            // A page nobody asked for (the pull was abandoned): treat like pushed messages.
            messages.sort_by_key(|m| m.seq);
            for message in messages {
                out.extend(self.on_message(message));
            }
            return out;
        };
        messages.sort_by_key(|m| m.seq);
        let before = conv.position;
        for message in messages {
            conv.advance();
            if !conv.is_duplicate(message.seq) {
                conv.accept(message, &mut out);
            }
        }
        if has_more && conv.position != before {
            conv.start_fetch_after(conversation_id, &mut out);
            // Keep the original starting point so progress is judged over the whole pull.
            conv.fetch = Some(fetch);
            return out;
        }
        conv.fetch = None;
        let progressed = conv.position != fetch.started_at;
        conv.release_held(conversation_id, progressed, &mut out);
        out
    }

    /// A pull failed with a server error: give up on the gap and release what was held.
    pub(crate) fn on_fetch_failed(&mut self, conversation_id: ConversationId) -> Vec<Step> {
        let mut out = Vec::new();
        if let Some(conv) = self.conversations.get_mut(&conversation_id) {
            conv.fetch = None;
            conv.release_held(conversation_id, false, &mut out);
        }
        out
    }

    /// The connection dropped: abandon pulls and held messages. The resync after reconnecting
    /// pulls everything past the positions again.
    pub(crate) fn on_disconnect(&mut self) {
        for conv in self.conversations.values_mut() {
            conv.fetch = None;
            conv.held.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_proto::Content;

    fn msg(conversation_id: ConversationId, seq: Seq) -> Message {
        Message {
            conversation_id,
            seq,
            sender_id: 1,
            client_msg_id: None,
            created_at: 1_000 + seq,
            content: Content::text(format!("m{seq}")),
            reply_to: None,
            mentions: vec![],
            mention_all: false,
        }
    }

    fn delivered(steps: &[Step]) -> Vec<(ConversationId, Seq)> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Deliver(m) => Some((m.conversation_id, m.seq)),
                _ => None,
            })
            .collect()
    }

    fn fetches(steps: &[Step]) -> Vec<Step> {
        steps
            .iter()
            .filter(|s| !matches!(s, Step::Deliver(_)))
            .cloned()
            .collect()
    }

    #[test]
    fn first_message_of_an_unknown_conversation_is_accepted() {
        let mut s = Sequencer::new();
        assert_eq!(delivered(&s.on_message(msg(5, 42))), vec![(5, 42)]);
        assert_eq!(s.position(5), Some(42));
        assert_eq!(delivered(&s.on_message(msg(5, 43))), vec![(5, 43)]);
    }

    #[test]
    fn duplicates_are_dropped() {
        let mut s = Sequencer::new();
        s.on_message(msg(5, 1));
        s.on_message(msg(5, 2));
        assert!(s.on_message(msg(5, 2)).is_empty());
        assert!(s.on_message(msg(5, 1)).is_empty());
        assert_eq!(s.position(5), Some(2));
    }

    #[test]
    fn conversations_are_independent() {
        let mut s = Sequencer::new();
        s.on_message(msg(1, 10));
        assert_eq!(delivered(&s.on_message(msg(2, 3))), vec![(2, 3)]);
        assert_eq!(s.position(1), Some(10));
        assert_eq!(s.position(2), Some(3));
    }

    #[test]
    fn a_gap_pulls_history_then_releases_held_messages_in_order() {
        let mut s = Sequencer::new();
        s.on_message(msg(5, 1));
        let steps = s.on_message(msg(5, 4));
        assert!(delivered(&steps).is_empty());
        assert_eq!(
            fetches(&steps),
            vec![Step::FetchAfter {
                conversation_id: 5,
                after: 1
            }]
        );
        assert!(s.is_fetching());
        // More arrives while pulling: held back.
        assert!(s.on_message(msg(5, 5)).is_empty());
        // History brings 2..4 (4 overlaps the held copy).
        let steps = s.on_page(5, vec![msg(5, 2), msg(5, 3), msg(5, 4)], false);
        assert_eq!(delivered(&steps), vec![(5, 2), (5, 3), (5, 4), (5, 5)]);
        assert!(fetches(&steps).is_empty());
        assert!(!s.is_fetching());
        assert_eq!(s.position(5), Some(5));
    }

    #[test]
    fn a_long_gap_is_pulled_page_by_page() {
        let mut s = Sequencer::new();
        s.on_known(5, 10);
        s.on_message(msg(5, 20));
        let steps = s.on_page(5, (11..=15).map(|q| msg(5, q)).collect(), true);
        assert_eq!(delivered(&steps).len(), 5);
        assert_eq!(
            fetches(&steps),
            vec![Step::FetchAfter {
                conversation_id: 5,
                after: 15
            }]
        );
        let steps = s.on_page(5, (16..=20).map(|q| msg(5, q)).collect(), false);
        assert_eq!(
            delivered(&steps),
            (16..=20).map(|q| (5, q)).collect::<Vec<_>>()
        );
        assert_eq!(s.position(5), Some(20));
    }

    #[test]
    fn a_gap_the_server_cannot_fill_does_not_stall_delivery() {
        let mut s = Sequencer::new();
        s.on_message(msg(5, 1));
        s.on_message(msg(5, 4));
        let steps = s.on_page(5, vec![], false);
        assert_eq!(delivered(&steps), vec![(5, 4)]);
        assert!(!s.is_fetching());
    }

    #[test]
    fn a_failed_pull_releases_held_messages() {
        let mut s = Sequencer::new();
        s.on_message(msg(5, 1));
        s.on_message(msg(5, 3));
        s.on_message(msg(5, 4));
        assert_eq!(delivered(&s.on_fetch_failed(5)), vec![(5, 3), (5, 4)]);
        assert_eq!(s.position(5), Some(4));
    }

    #[test]
    fn a_remaining_gap_after_progress_is_pulled_again() {
        let mut s = Sequencer::new();
        s.on_message(msg(5, 1));
        s.on_message(msg(5, 3));
        s.on_message(msg(5, 6));
        // The page fills 2..3 but 4..5 are still missing before the held 6.
        let steps = s.on_page(5, vec![msg(5, 2), msg(5, 3)], false);
        assert_eq!(delivered(&steps), vec![(5, 2), (5, 3)]);
        assert_eq!(
            fetches(&steps),
            vec![Step::FetchAfter {
                conversation_id: 5,
                after: 3
            }]
        );
        let steps = s.on_page(5, vec![msg(5, 4), msg(5, 5), msg(5, 6)], false);
        assert_eq!(delivered(&steps), vec![(5, 4), (5, 5), (5, 6)]);
    }

    #[test]
    fn own_sends_move_the_position_without_delivery() {
        let mut s = Sequencer::new();
        s.on_message(msg(5, 1));
        s.on_own(5, 2);
        assert_eq!(s.position(5), Some(2));
        // The next message from someone else is not a gap.
        assert_eq!(delivered(&s.on_message(msg(5, 3))), vec![(5, 3)]);
        // An echo of the own message is a duplicate.
        assert!(s.on_message(msg(5, 2)).is_empty());
    }

    #[test]
    fn own_sends_beyond_a_gap_are_skipped_when_the_gap_is_filled() {
        let mut s = Sequencer::new();
        s.on_message(msg(5, 1));
        s.on_own(5, 3);
        assert_eq!(s.position(5), Some(1));
        // 2 arrives: the position moves over the own 3 as well.
        assert_eq!(delivered(&s.on_message(msg(5, 2))), vec![(5, 2)]);
        assert_eq!(s.position(5), Some(3));

        s.on_own(5, 5);
        let steps = s.on_message(msg(5, 6));
        assert_eq!(
            fetches(&steps),
            vec![Step::FetchAfter {
                conversation_id: 5,
                after: 3
            }]
        );
        let steps = s.on_page(5, vec![msg(5, 4), msg(5, 5), msg(5, 6)], false);
        assert_eq!(delivered(&steps), vec![(5, 4), (5, 6)]);
    }

    #[test]
    fn a_sync_by_the_application_records_positions() {
        let mut s = Sequencer::new();
        s.on_known(5, 10);
        assert_eq!(s.position(5), Some(10));
        assert!(s.on_message(msg(5, 9)).is_empty());
        assert_eq!(delivered(&s.on_message(msg(5, 11))), vec![(5, 11)]);
        // Never backwards.
        s.on_known(5, 3);
        assert_eq!(s.position(5), Some(11));
    }

    #[test]
    fn resync_pulls_what_was_missed() {
        let mut s = Sequencer::new();
        s.on_message(msg(1, 4)); // known, behind
        s.on_message(msg(2, 7)); // known, up to date
        let steps = s.on_resync(
            [
                (1, 6, 2_000), // missed 5 and 6
                (2, 7, 900),
                (3, 2, 500),   // unknown, quiet since before the session
                (4, 3, 1_500), // unknown, active during the session
            ],
            1_000,
        );
        assert_eq!(
            steps,
            vec![
                Step::FetchAfter {
                    conversation_id: 1,
                    after: 4
                },
                Step::FetchSince {
                    conversation_id: 4,
                    since: 1_000
                },
            ]
        );
        assert_eq!(s.position(3), Some(2));
        let steps = s.on_page(1, vec![msg(1, 5), msg(1, 6)], false);
        assert_eq!(delivered(&steps), vec![(1, 5), (1, 6)]);
        let steps = s.on_page(4, vec![msg(4, 2), msg(4, 3)], false);
        assert_eq!(delivered(&steps), vec![(4, 2), (4, 3)]);
        assert!(!s.is_fetching());
    }

    #[test]
    fn resync_skips_own_sends_in_unknown_conversations() {
        let mut s = Sequencer::new();
        s.on_own(4, 3);
        let steps = s.on_resync([(4, 4, 1_500)], 1_000);
        assert_eq!(steps.len(), 1);
        let steps = s.on_page(4, vec![msg(4, 3), msg(4, 4)], false);
        assert_eq!(delivered(&steps), vec![(4, 4)]);
    }

    #[test]
    fn messages_pushed_during_a_resync_pull_wait_for_it() {
        let mut s = Sequencer::new();
        s.on_message(msg(1, 1));
        s.on_resync([(1, 3, 2_000)], 1_000);
        assert!(s.on_message(msg(1, 4)).is_empty());
        let steps = s.on_page(1, vec![msg(1, 2), msg(1, 3)], false);
        assert_eq!(delivered(&steps), vec![(1, 2), (1, 3), (1, 4)]);
    }

    #[test]
    fn a_disconnect_abandons_pulls_and_held_messages() {
        let mut s = Sequencer::new();
        s.on_message(msg(5, 1));
        s.on_message(msg(5, 3));
        s.on_disconnect();
        assert!(!s.is_fetching());
        assert_eq!(s.position(5), Some(1));
        // The resync pulls from the old position again.
        let steps = s.on_resync([(5, 3, 2_000)], 0);
        assert_eq!(
            steps,
            vec![Step::FetchAfter {
                conversation_id: 5,
                after: 1
            }]
        );
    }

    #[test]
    fn a_sync_during_a_pull_does_not_move_the_position() {
        let mut s = Sequencer::new();
        s.on_message(msg(5, 1));
        s.on_message(msg(5, 3));
        s.on_known(5, 3);
        assert_eq!(s.position(5), Some(1));
        let steps = s.on_page(5, vec![msg(5, 2), msg(5, 3)], false);
        assert_eq!(delivered(&steps), vec![(5, 2), (5, 3)]);
    }
}
