//! Client transactions: INVITE (RFC 3261 §17.1.1, with RFC 6026's Accepted state) and
//! non-INVITE (§17.1.2).

use std::time::{Duration, Instant};

use super::timers::TimerConfig;

/// What a client transaction does after an input: bytes to (re)send, whether to hand the
/// response to the transaction user, and whether it timed out.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ClientStep {
    /// Bytes to send to the peer (a retransmission or an ACK).
    pub(super) transmit: Option<Vec<u8>>,
    /// Pass the response up to the transaction user.
    pub(super) deliver: bool,
    /// Timer B or F fired: the transaction user learns of the timeout (it answers itself 408).
    pub(super) timed_out: bool,
}

/// The states of both client machines, named as the RFC names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ClientState {
    /// INVITE sent, no response yet. Timer A retransmits (unreliable only), Timer B gives up.
    Calling {
        retransmit_at: Option<Instant>,
        interval: Duration,
        timeout_at: Instant,
    },
    /// A provisional response arrived; the INVITE is no longer retransmitted.
    InviteProceeding,
    /// A 300-699 arrived and was ACKed; Timer D absorbs retransmitted finals.
    InviteCompleted { ack: Vec<u8>, until: Instant },
    /// A 2xx arrived (RFC 6026 §7.2): further 2xx are passed up until Timer M.
    Accepted { until: Instant },
    /// Non-INVITE sent, no response yet. Timer E retransmits (unreliable only), Timer F gives up.
    Trying {
        retransmit_at: Option<Instant>,
        interval: Duration,
        timeout_at: Instant,
    },
    /// A provisional response arrived; Timer E keeps retransmitting at T2.
    Proceeding {
        retransmit_at: Option<Instant>,
        timeout_at: Instant,
    },
    /// A final response arrived; Timer K absorbs retransmissions.
    Completed { until: Instant },
    /// Done: the transaction is removed.
    Terminated,
}

/// One client transaction's state machine. It holds the request bytes it retransmits.
#[derive(Debug)]
pub(super) struct ClientMachine {
    state: ClientState,
    request: Vec<u8>,
    reliable: bool,
    timers: TimerConfig,
}

impl ClientMachine {
    /// Starts a transaction for `request` (already sent once by the caller).
    pub(super) fn new(
        invite: bool,
        request: Vec<u8>,
        reliable: bool,
        timers: TimerConfig,
        now: Instant,
    ) -> Self {
        let retransmit_at = (!reliable).then(|| now + timers.t1);
        let timeout_at = now + timers.transaction_timeout();
        let state = if invite {
            ClientState::Calling {
                retransmit_at,
                interval: timers.t1,
                timeout_at,
            }
        } else {
            ClientState::Trying {
                retransmit_at,
                interval: timers.t1,
                timeout_at,
            }
        };
        Self {
            state,
            request,
            reliable,
            timers,
        }
    }

    #[cfg(test)]
    pub(super) fn state(&self) -> &ClientState {
        &self.state
    }

    /// A response for this transaction. `ack` builds the ACK for a non-2xx final response
    /// (§17.1.1.3); it is called only when one is needed.
    pub(super) fn on_response(
        &mut self,
        status: u16,
        now: Instant,
        ack: impl FnOnce() -> Vec<u8>,
    ) -> ClientStep {
        let provisional = status < 200;
        let success = (200..300).contains(&status);
        match &self.state {
            ClientState::Calling { .. } | ClientState::InviteProceeding => {
                if provisional {
                    self.state = ClientState::InviteProceeding;
                } else if success {
                    self.state = ClientState::Accepted {
                        until: now + self.timers.transaction_timeout(),
                    };
                } else {
                    let ack = ack();
                    self.state = ClientState::InviteCompleted {
                        ack: ack.clone(),
                        until: now + self.timers.timer_d(self.reliable),
                    };
                    return ClientStep {
                        transmit: Some(ack),
                        deliver: true,
                        timed_out: false,
                    };
                }
                deliver()
            }
            // RFC 6026 §7.2: retransmitted 2xx go up, so the TU re-sends its ACK.
            ClientState::Accepted { .. } if success => deliver(),
            ClientState::Accepted { .. } => ClientStep::default(),
            // §17.1.1.2: a retransmitted final response is ACKed again, not passed up.
            ClientState::InviteCompleted { ack, .. } if !provisional => ClientStep {
                transmit: Some(ack.clone()),
                ..ClientStep::default()
            },
            ClientState::InviteCompleted { .. } => ClientStep::default(),
            ClientState::Trying { timeout_at, .. } | ClientState::Proceeding { timeout_at, .. } => {
                let timeout_at = *timeout_at;
                if provisional {
                    let retransmit_at = (!self.reliable).then(|| now + self.timers.t2);
                    self.state = ClientState::Proceeding {
                        retransmit_at,
                        timeout_at,
                    };
                } else {
                    self.state = ClientState::Completed {
                        until: now + self.timers.timer_i_k(self.reliable),
                    };
                }
                deliver()
            }
            ClientState::Completed { .. } | ClientState::Terminated => ClientStep::default(),
        }
    }

    /// Fires whatever timer is due at `now`.
    pub(super) fn on_timer(&mut self, now: Instant) -> ClientStep {
        match self.state.clone() {
            // Timer A doubles without a cap (§17.1.1.2); Timer E doubles up to T2 (§17.1.2.2).
            ClientState::Calling {
                retransmit_at,
                interval,
                timeout_at,
            } => self.first_timers(now, retransmit_at, interval, timeout_at, false),
            ClientState::Trying {
                retransmit_at,
                interval,
                timeout_at,
            } => self.first_timers(now, retransmit_at, interval, timeout_at, true),
            ClientState::Proceeding {
                retransmit_at,
                timeout_at,
            } => {
                if now >= timeout_at {
                    self.state = ClientState::Terminated;
                    return timed_out();
                }
                match retransmit_at {
                    Some(at) if now >= at => {
                        // In Proceeding, Timer E is reset to T2 each time (§17.1.2.2).
                        self.state = ClientState::Proceeding {
                            retransmit_at: Some(now + self.timers.t2),
                            timeout_at,
                        };
                        self.retransmit()
                    }
                    _ => ClientStep::default(),
                }
            }
            ClientState::InviteCompleted { until, .. }
            | ClientState::Accepted { until }
            | ClientState::Completed { until } => {
                if now >= until {
                    self.state = ClientState::Terminated;
                }
                ClientStep::default()
            }
            ClientState::InviteProceeding | ClientState::Terminated => ClientStep::default(),
        }
    }

    /// Calling (INVITE, Timers A/B) and Trying (non-INVITE, Timers E/F): give up at the
    /// timeout, else retransmit with a doubled interval, capped at T2 for E.
    fn first_timers(
        &mut self,
        now: Instant,
        retransmit_at: Option<Instant>,
        interval: Duration,
        timeout_at: Instant,
        capped: bool,
    ) -> ClientStep {
        if now >= timeout_at {
            self.state = ClientState::Terminated;
            return timed_out();
        }
        match retransmit_at {
            Some(at) if now >= at => {
                let interval = self.timers.back_off(interval, capped);
                let retransmit_at = Some(now + interval);
                self.state = if capped {
                    ClientState::Trying {
                        retransmit_at,
                        interval,
                        timeout_at,
                    }
                } else {
                    ClientState::Calling {
                        retransmit_at,
                        interval,
                        timeout_at,
                    }
                };
                self.retransmit()
            }
            _ => ClientStep::default(),
        }
    }

    /// The next instant a timer of this transaction fires.
    pub(super) fn deadline(&self) -> Option<Instant> {
        match &self.state {
            ClientState::Calling {
                retransmit_at,
                timeout_at,
                ..
            }
            | ClientState::Trying {
                retransmit_at,
                timeout_at,
                ..
            }
            | ClientState::Proceeding {
                retransmit_at,
                timeout_at,
            } => Some(retransmit_at.map_or(*timeout_at, |r| r.min(*timeout_at))),
            ClientState::InviteCompleted { until, .. }
            | ClientState::Accepted { until }
            | ClientState::Completed { until } => Some(*until),
            ClientState::InviteProceeding | ClientState::Terminated => None,
        }
    }

    pub(super) fn terminated(&self) -> bool {
        self.state == ClientState::Terminated
    }

    fn retransmit(&self) -> ClientStep {
        ClientStep {
            transmit: Some(self.request.clone()),
            ..ClientStep::default()
        }
    }
}

fn deliver() -> ClientStep {
    ClientStep {
        deliver: true,
        ..ClientStep::default()
    }
}

fn timed_out() -> ClientStep {
    ClientStep {
        timed_out: true,
        ..ClientStep::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // tests need one real instant to add fake time to
    fn t0() -> Instant {
        Instant::now()
    }

    const T1: Duration = Duration::from_millis(500);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Drives the machine to `end`, firing every timer; returns the retransmission times (ms).
    fn run(machine: &mut ClientMachine, start: Instant, end: Duration) -> (Vec<u128>, bool) {
        let mut sent = Vec::new();
        let mut timed_out = false;
        while let Some(at) = machine.deadline() {
            if at > start + end {
                break;
            }
            let step = machine.on_timer(at);
            if step.transmit.is_some() {
                sent.push((at - start).as_millis());
            }
            timed_out |= step.timed_out;
        }
        (sent, timed_out)
    }

    #[test]
    fn invite_over_udp_retransmits_on_timer_a_until_timer_b() {
        let t0 = t0();
        let mut m = ClientMachine::new(true, b"INVITE".to_vec(), false, TimerConfig::default(), t0);
        let (sent, timed_out) = run(&mut m, t0, Duration::from_secs(40));
        // A: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s (doubling, no cap); B at 32 s.
        assert_eq!(sent, [500, 1500, 3500, 7500, 15500, 31500]);
        assert!(timed_out);
        assert!(m.terminated());
    }

    #[test]
    fn invite_over_tcp_never_retransmits() {
        let t0 = t0();
        let mut m = ClientMachine::new(true, b"INVITE".to_vec(), true, TimerConfig::default(), t0);
        let (sent, timed_out) = run(&mut m, t0, Duration::from_secs(40));
        assert!(sent.is_empty());
        assert!(timed_out);
    }

    #[test]
    fn non_invite_timer_e_caps_at_t2_and_proceeding_uses_t2() {
        let t0 = t0();
        let mut m = ClientMachine::new(
            false,
            b"OPTIONS".to_vec(),
            false,
            TimerConfig::default(),
            t0,
        );
        let (sent, _) = run(&mut m, t0, ms(11_000));
        // E: 0.5, 1.5, 3.5, 7.5, 11.5 … (intervals 0.5, 1, 2, 4, 4)
        assert_eq!(sent, [500, 1500, 3500, 7500]);
        let step = m.on_response(100, t0 + ms(8000), Vec::new);
        assert!(step.deliver);
        assert_eq!(m.deadline(), Some(t0 + ms(12_000))); // T2 after the provisional
        let (sent, timed_out) = run(&mut m, t0, Duration::from_secs(40));
        assert_eq!(sent, [12_000, 16_000, 20_000, 24_000, 28_000]);
        assert!(timed_out, "Timer F still ends it at 32 s");
    }

    #[test]
    fn non_2xx_final_is_acked_once_and_absorbed() {
        let t0 = t0();
        let mut m = ClientMachine::new(true, b"INVITE".to_vec(), false, TimerConfig::default(), t0);
        assert!(m.on_response(180, t0 + ms(100), Vec::new).deliver);
        assert_eq!(m.deadline(), None, "no retransmission in Proceeding");
        let step = m.on_response(486, t0 + ms(200), || b"ACK".to_vec());
        assert_eq!(
            step,
            ClientStep {
                transmit: Some(b"ACK".to_vec()),
                deliver: true,
                timed_out: false
            }
        );
        // a retransmitted 486 is ACKed again but not passed up
        let again = m.on_response(486, t0 + ms(700), || unreachable!());
        assert_eq!(
            again,
            ClientStep {
                transmit: Some(b"ACK".to_vec()),
                deliver: false,
                timed_out: false
            }
        );
        assert_eq!(m.deadline(), Some(t0 + ms(200) + Duration::from_secs(32)));
        m.on_timer(t0 + Duration::from_secs(33));
        assert!(m.terminated());
    }

    #[test]
    fn two_hundred_enters_accepted_and_passes_retransmissions_up() {
        let t0 = t0();
        let mut m = ClientMachine::new(true, b"INVITE".to_vec(), false, TimerConfig::default(), t0);
        assert!(m.on_response(200, t0 + T1, || unreachable!()).deliver);
        assert!(matches!(m.state(), ClientState::Accepted { .. }));
        assert!(m.on_response(200, t0 + ms(1500), || unreachable!()).deliver);
        assert!(!m.on_response(180, t0 + ms(1600), Vec::new).deliver);
        m.on_timer(t0 + T1 + Duration::from_secs(32));
        assert!(m.terminated(), "Timer M");
    }

    #[test]
    fn non_invite_final_then_timer_k() {
        let t0 = t0();
        let mut m = ClientMachine::new(false, b"BYE".to_vec(), false, TimerConfig::default(), t0);
        assert!(m.on_response(200, t0 + ms(50), Vec::new).deliver);
        assert!(
            !m.on_response(200, t0 + ms(60), Vec::new).deliver,
            "retransmission absorbed"
        );
        assert_eq!(m.deadline(), Some(t0 + ms(50) + Duration::from_secs(5)));
        let mut tcp = ClientMachine::new(false, b"BYE".to_vec(), true, TimerConfig::default(), t0);
        tcp.on_response(200, t0, Vec::new);
        tcp.on_timer(t0);
        assert!(tcp.terminated(), "Timer K is 0 over reliable transports");
    }
}
