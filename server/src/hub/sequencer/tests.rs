use protocol::Topic;

use super::*;
use crate::events::Audience;

const WAIT: Duration = Duration::from_millis(200);

fn events(seqs: impl IntoIterator<Item = Seq>) -> Vec<StoredEvent> {
    seqs.into_iter()
        .map(|seq| StoredEvent {
            seq,
            topic: Topic::Orders,
            audience: Audience::everyone(),
            json: format!("{{\"seq\":{seq}}}").into(),
        })
        .collect()
}

fn seqs(batches: Vec<Vec<StoredEvent>>) -> Vec<Vec<Seq>> {
    batches.into_iter().map(|batch| batch.into_iter().map(|event| event.seq).collect()).collect()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn batches_in_order_pass_at_once() {
    let t0 = Instant::now();
    let mut sequencer = Sequencer::new(10, WAIT);
    assert_eq!(seqs(sequencer.offer(10, events([11, 12]), t0)), vec![vec![11, 12]]);
    assert_eq!(seqs(sequencer.offer(12, events([13]), t0)), vec![vec![13]]);
    assert_eq!(sequencer.routed(), 13);
    assert_eq!(sequencer.deadline(), None, "nothing is missing");
}

#[test]
fn an_early_batch_waits_for_the_one_before_it() {
    let t0 = Instant::now();
    let mut sequencer = Sequencer::new(10, WAIT);
    assert!(sequencer.offer(12, events([13, 14]), t0).is_empty(), "11..12 are not routed yet");
    assert_eq!(sequencer.held(), 1);
    assert_eq!(sequencer.due(t0 + ms(100)), None, "the missing batch may still be on its way");
    assert_eq!(seqs(sequencer.offer(10, events([11, 12]), t0 + ms(5))), vec![vec![11, 12], vec![13, 14]]);
    assert_eq!((sequencer.routed(), sequencer.held(), sequencer.deadline()), (14, 0, None));
}

#[test]
fn a_batch_that_never_comes_is_read_from_the_log_after_the_wait() {
    let t0 = Instant::now();
    let mut sequencer = Sequencer::new(10, WAIT);
    sequencer.offer(12, events([13]), t0);
    assert_eq!(sequencer.deadline(), Some(t0 + WAIT));
    assert_eq!(sequencer.due(t0 + WAIT), Some(12), "read 11..=12 from the log");
    // The log has 11 only: 12 was rolled back (a sequence can skip) or is not visible to anybody here.
    assert_eq!(seqs(sequencer.backfilled(12, events([11]))), vec![vec![11], vec![13]]);
    assert_eq!(sequencer.routed(), 13);
    // The lost batch turns up late over Redis: it is not routed twice.
    assert!(sequencer.offer(10, events([11, 12]), t0 + ms(300)).is_empty());
    assert_eq!(sequencer.deadline(), None);
}

#[test]
fn own_and_relayed_copies_of_a_batch_are_routed_once() {
    let t0 = Instant::now();
    let mut sequencer = Sequencer::new(0, WAIT);
    assert_eq!(seqs(sequencer.offer(0, events([1, 2]), t0)), vec![vec![1, 2]]);
    assert!(sequencer.offer(0, events([1, 2]), t0).is_empty(), "the same write, back from Redis");
    assert!(sequencer.offer(0, Vec::new(), t0).is_empty(), "an empty batch changes nothing");
    assert_eq!(sequencer.routed(), 2);
}

#[test]
fn a_probe_of_the_log_finds_what_no_batch_announced() {
    let t0 = Instant::now();
    let mut sequencer = Sequencer::new(5, WAIT);
    // Redis was away: the database holds 6..=9 and no batch will ever say so.
    sequencer.committed(9, t0);
    assert_eq!(sequencer.due(t0 + ms(199)), None);
    assert_eq!(sequencer.due(t0 + WAIT), Some(9));
    // The batch arrives in time after all: no read is needed.
    assert_eq!(seqs(sequencer.offer(5, events([6, 7, 8, 9]), t0 + ms(50))), vec![vec![6, 7, 8, 9]]);
    assert_eq!(sequencer.deadline(), None);
}

#[test]
fn a_probe_at_or_below_what_was_routed_is_no_gap() {
    let t0 = Instant::now();
    let mut sequencer = Sequencer::new(5, WAIT);
    sequencer.committed(5, t0);
    sequencer.committed(3, t0);
    assert_eq!(sequencer.deadline(), None);
}

#[test]
fn a_read_of_the_log_releases_every_held_batch_it_reaches_and_trims_overlaps() {
    let t0 = Instant::now();
    let mut sequencer = Sequencer::new(0, WAIT);
    sequencer.offer(4, events([5, 6]), t0);
    sequencer.offer(2, events([3, 4]), t0);
    sequencer.offer(8, events([9]), t0);
    assert_eq!(sequencer.held(), 3);
    // A probe learned that 7 is committed as well; the log read reaches 8 and holds 7 and 8 too.
    sequencer.committed(8, t0);
    let through = sequencer.due(t0 + WAIT).expect("due");
    assert_eq!(through, 8);
    let ready = sequencer.backfilled(through, events(1..=10));
    assert_eq!(
        seqs(ready),
        vec![(1..=8).collect::<Vec<_>>(), vec![9]],
        "nothing after `through` is taken from the read"
    );
    assert_eq!((sequencer.routed(), sequencer.held()), (9, 0));
}

#[test]
fn a_read_that_finds_nothing_still_moves_on() {
    let t0 = Instant::now();
    let mut sequencer = Sequencer::new(0, WAIT);
    sequencer.offer(3, events([4]), t0);
    // 1..=3 were pruned, or none was visible: the held batch follows all the same.
    assert_eq!(seqs(sequencer.backfilled(3, Vec::new())), vec![vec![4]]);
    assert_eq!(sequencer.routed(), 4);
}

#[test]
fn the_wait_starts_at_the_first_gap_not_the_latest() {
    let t0 = Instant::now();
    let mut sequencer = Sequencer::new(0, WAIT);
    sequencer.offer(1, events([2]), t0);
    sequencer.offer(2, events([3]), t0 + ms(150));
    assert_eq!(sequencer.due(t0 + WAIT), Some(2), "the oldest missing seq decides");
}
