//! Server transactions: INVITE (RFC 3261 §17.2.1, with RFC 6026's Accepted state) and
//! non-INVITE (§17.2.2).
//!
//! One departure from the letter of RFC 3261, allowed by RFC 6026 §8.1: the INVITE server
//! transaction itself retransmits a 2xx (T1 doubling to T2, as Timer G) until the ACK arrives or
//! Timer L fires, instead of leaving that to the UAS core (§13.3.1.4). The transaction user then
//! only learns "ACK received" or "no ACK".

use std::time::{Duration, Instant};

use super::timers::TimerConfig;

/// What a server transaction does after an input.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ServerStep {
    /// Bytes to send to the peer (a response or its retransmission).
    pub(super) transmit: Option<Vec<u8>>,
    /// Timer H (no ACK for a non-2xx final) or Timer L with a 2xx never ACKed fired.
    pub(super) ack_timeout: bool,
    /// The ACK for a 2xx arrived (the dialog is confirmed).
    pub(super) acked: bool,
}

/// The states of both server machines, named as the RFC names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ServerState {
    /// INVITE received; the last provisional is re-sent when the INVITE is retransmitted.
    InviteProceeding { last: Option<Vec<u8>> },
    /// A 300-699 was sent: Timer G retransmits it (unreliable only) until ACK or Timer H.
    InviteCompleted {
        response: Vec<u8>,
        retransmit_at: Option<Instant>,
        interval: Duration,
        timeout_at: Instant,
    },
    /// The ACK for the non-2xx arrived; Timer I absorbs ACK retransmissions.
    Confirmed { until: Instant },
    /// A 2xx was sent (RFC 6026 §7.1): retransmitted until its ACK, until Timer L.
    Accepted {
        response: Vec<u8>,
        retransmit_at: Option<Instant>,
        interval: Duration,
        until: Instant,
        acked: bool,
    },
    /// Non-INVITE received, nothing sent: retransmissions are absorbed.
    Trying,
    /// A provisional was sent; it is re-sent when the request is retransmitted.
    Proceeding { last: Vec<u8> },
    /// A final was sent; it is re-sent on retransmissions until Timer J.
    Completed { response: Vec<u8>, until: Instant },
    /// Done: the transaction is removed.
    Terminated,
}

/// One server transaction's state machine.
#[derive(Debug)]
pub(super) struct ServerMachine {
    state: ServerState,
    reliable: bool,
    timers: TimerConfig,
}

impl ServerMachine {
    pub(super) fn new(invite: bool, reliable: bool, timers: TimerConfig) -> Self {
        let state = if invite {
            ServerState::InviteProceeding { last: None }
        } else {
            ServerState::Trying
        };
        Self {
            state,
            reliable,
            timers,
        }
    }

    #[cfg(test)]
    pub(super) fn state(&self) -> &ServerState {
        &self.state
    }

    /// Whether a final response has been sent.
    pub(super) fn answered(&self) -> bool {
        !matches!(
            self.state,
            ServerState::InviteProceeding { .. }
                | ServerState::Trying
                | ServerState::Proceeding { .. }
        )
    }

    /// The transaction user sends a response with this status.
    pub(super) fn on_send(
        &mut self,
        status: u16,
        bytes: Vec<u8>,
        now: Instant,
    ) -> Result<ServerStep, &'static str> {
        let provisional = status < 200;
        let retransmit_at = (!self.reliable).then(|| now + self.timers.t1);
        match &self.state {
            ServerState::InviteProceeding { .. } if provisional => {
                self.state = ServerState::InviteProceeding {
                    last: Some(bytes.clone()),
                };
            }
            ServerState::InviteProceeding { .. } if status < 300 => {
                self.state = ServerState::Accepted {
                    response: bytes.clone(),
                    retransmit_at,
                    interval: self.timers.t1,
                    until: now + self.timers.transaction_timeout(),
                    acked: false,
                };
            }
            ServerState::InviteProceeding { .. } => {
                self.state = ServerState::InviteCompleted {
                    response: bytes.clone(),
                    retransmit_at,
                    interval: self.timers.t1,
                    timeout_at: now + self.timers.transaction_timeout(),
                };
            }
            // RFC 6026 §7.1: further 2xx (e.g. a refreshed answer) may be sent in Accepted.
            ServerState::Accepted {
                retransmit_at,
                interval,
                until,
                acked,
                ..
            } if (200..300).contains(&status) => {
                self.state = ServerState::Accepted {
                    response: bytes.clone(),
                    retransmit_at: *retransmit_at,
                    interval: *interval,
                    until: *until,
                    acked: *acked,
                };
            }
            ServerState::Trying | ServerState::Proceeding { .. } if provisional => {
                self.state = ServerState::Proceeding {
                    last: bytes.clone(),
                };
            }
            ServerState::Trying | ServerState::Proceeding { .. } => {
                self.state = ServerState::Completed {
                    response: bytes.clone(),
                    until: now + self.timers.timer_j(self.reliable),
                };
            }
            _ => return Err("the transaction already sent its final response"),
        }
        Ok(ServerStep {
            transmit: Some(bytes),
            ..ServerStep::default()
        })
    }

    /// The request was received again (a retransmission).
    pub(super) fn on_retransmission(&self) -> ServerStep {
        let transmit = match &self.state {
            ServerState::InviteProceeding { last } => last.clone(),
            ServerState::Proceeding { last } => Some(last.clone()),
            ServerState::InviteCompleted { response, .. }
            | ServerState::Completed { response, .. } => Some(response.clone()),
            // The 2xx is being retransmitted on its own timer; a re-sent INVITE changes nothing.
            ServerState::Accepted { .. }
            | ServerState::Confirmed { .. }
            | ServerState::Trying
            | ServerState::Terminated => None,
        };
        ServerStep {
            transmit,
            ..ServerStep::default()
        }
    }

    /// An ACK matched this INVITE transaction (for its non-2xx, or for its 2xx).
    pub(super) fn on_ack(&mut self, now: Instant) -> ServerStep {
        match &mut self.state {
            ServerState::InviteCompleted { .. } => {
                self.state = ServerState::Confirmed {
                    until: now + self.timers.timer_i_k(self.reliable),
                };
                ServerStep::default()
            }
            ServerState::Accepted {
                acked,
                retransmit_at,
                ..
            } => {
                let first = !*acked;
                *acked = true;
                *retransmit_at = None;
                ServerStep {
                    acked: first,
                    ..ServerStep::default()
                }
            }
            _ => ServerStep::default(),
        }
    }

    /// Fires whatever timer is due at `now`.
    pub(super) fn on_timer(&mut self, now: Instant) -> ServerStep {
        match &mut self.state {
            ServerState::InviteCompleted {
                response,
                retransmit_at,
                interval,
                timeout_at,
            } => {
                if now >= *timeout_at {
                    self.state = ServerState::Terminated;
                    return ServerStep {
                        ack_timeout: true,
                        ..ServerStep::default()
                    };
                }
                retransmit(response, retransmit_at, interval, &self.timers, now)
            }
            ServerState::Accepted {
                response,
                retransmit_at,
                interval,
                until,
                acked,
            } => {
                if now >= *until {
                    let ack_timeout = !*acked;
                    self.state = ServerState::Terminated;
                    return ServerStep {
                        ack_timeout,
                        ..ServerStep::default()
                    };
                }
                retransmit(response, retransmit_at, interval, &self.timers, now)
            }
            ServerState::Confirmed { until } | ServerState::Completed { until, .. } => {
                if now >= *until {
                    self.state = ServerState::Terminated;
                }
                ServerStep::default()
            }
            ServerState::InviteProceeding { .. }
            | ServerState::Trying
            | ServerState::Proceeding { .. }
            | ServerState::Terminated => ServerStep::default(),
        }
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        match &self.state {
            ServerState::InviteCompleted {
                retransmit_at,
                timeout_at,
                ..
            } => Some(retransmit_at.map_or(*timeout_at, |r| r.min(*timeout_at))),
            ServerState::Accepted {
                retransmit_at,
                until,
                ..
            } => Some(retransmit_at.map_or(*until, |r| r.min(*until))),
            ServerState::Confirmed { until } | ServerState::Completed { until, .. } => Some(*until),
            ServerState::InviteProceeding { .. }
            | ServerState::Trying
            | ServerState::Proceeding { .. }
            | ServerState::Terminated => None,
        }
    }

    pub(super) fn terminated(&self) -> bool {
        self.state == ServerState::Terminated
    }
}

/// Timer G (and the 2xx retransmission): resend, double the interval up to T2.
fn retransmit(
    response: &[u8],
    retransmit_at: &mut Option<Instant>,
    interval: &mut Duration,
    timers: &TimerConfig,
    now: Instant,
) -> ServerStep {
    match *retransmit_at {
        Some(at) if now >= at => {
            *interval = timers.back_off(*interval, true);
            *retransmit_at = Some(now + *interval);
            ServerStep {
                transmit: Some(response.to_vec()),
                ..ServerStep::default()
            }
        }
        _ => ServerStep::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // tests need one real instant to add fake time to
    fn t0() -> Instant {
        Instant::now()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn run(m: &mut ServerMachine, start: Instant, end: Duration) -> (Vec<u128>, bool) {
        let mut sent = Vec::new();
        let mut ack_timeout = false;
        while let Some(at) = m.deadline() {
            if at > start + end {
                break;
            }
            let step = m.on_timer(at);
            if step.transmit.is_some() {
                sent.push((at - start).as_millis());
            }
            ack_timeout |= step.ack_timeout;
        }
        (sent, ack_timeout)
    }

    #[test]
    fn non_2xx_final_retransmits_on_timer_g_until_timer_h() {
        let t0 = t0();
        let mut m = ServerMachine::new(true, false, TimerConfig::default());
        m.on_send(486, b"486".to_vec(), t0).unwrap();
        let (sent, ack_timeout) = run(&mut m, t0, Duration::from_secs(40));
        // G: 0.5, 1.5, 3.5, 7.5, then every 4 s; H at 32 s.
        assert_eq!(
            sent,
            [
                500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
            ]
        );
        assert!(ack_timeout);
    }

    #[test]
    fn ack_confirms_then_timer_i_ends() {
        let t0 = t0();
        let mut m = ServerMachine::new(true, false, TimerConfig::default());
        m.on_send(404, b"404".to_vec(), t0).unwrap();
        assert_eq!(m.on_retransmission().transmit, Some(b"404".to_vec()));
        m.on_ack(t0 + ms(100));
        assert!(matches!(m.state(), ServerState::Confirmed { .. }));
        assert_eq!(m.on_retransmission().transmit, None);
        assert_eq!(m.deadline(), Some(t0 + ms(100) + Duration::from_secs(5)));
        m.on_timer(t0 + Duration::from_secs(6));
        assert!(m.terminated());
    }

    #[test]
    fn two_hundred_is_retransmitted_until_acked() {
        let t0 = t0();
        let mut m = ServerMachine::new(true, false, TimerConfig::default());
        m.on_send(180, b"180".to_vec(), t0).unwrap();
        assert_eq!(m.on_retransmission().transmit, Some(b"180".to_vec()));
        m.on_send(200, b"200".to_vec(), t0).unwrap();
        let (sent, _) = run(&mut m, t0, ms(4000));
        assert_eq!(sent, [500, 1500, 3500]);
        assert!(m.on_ack(t0 + ms(4000)).acked);
        assert!(
            !m.on_ack(t0 + ms(4100)).acked,
            "a repeated ACK is reported once"
        );
        let (sent, ack_timeout) = run(&mut m, t0, Duration::from_secs(40));
        assert!(sent.is_empty(), "no retransmission after the ACK");
        assert!(!ack_timeout);
        assert!(m.terminated(), "Timer L");
    }

    #[test]
    fn unacked_two_hundred_is_reported() {
        let t0 = t0();
        let mut m = ServerMachine::new(true, true, TimerConfig::default());
        m.on_send(200, b"200".to_vec(), t0).unwrap();
        let (sent, ack_timeout) = run(&mut m, t0, Duration::from_secs(40));
        assert!(sent.is_empty(), "reliable transport: no retransmissions");
        assert!(ack_timeout);
    }

    #[test]
    fn non_invite_absorbs_then_replays() {
        let t0 = t0();
        let mut m = ServerMachine::new(false, false, TimerConfig::default());
        assert_eq!(m.on_retransmission().transmit, None, "Trying absorbs");
        m.on_send(200, b"200".to_vec(), t0).unwrap();
        assert_eq!(m.on_retransmission().transmit, Some(b"200".to_vec()));
        assert!(m.on_send(500, b"500".to_vec(), t0).is_err());
        assert_eq!(m.deadline(), Some(t0 + Duration::from_secs(32)), "Timer J");
        m.on_timer(t0 + Duration::from_secs(32));
        assert!(m.terminated());
    }
}
