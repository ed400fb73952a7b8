//! The one way sxplan runs independent jobs on several cores (sweeps, scenarios, from the
//! CLI and the Python package): a rayon pool of `--jobs`
//! threads computes them in any order, and the calling thread receives the results in input
//! order (a reorder buffer holds those that finish early), so it can write files, draw progress
//! and print in a fixed order. Results are therefore the same, byte for byte, for any thread
//! count, as long as each job depends on its input alone.

use std::collections::BTreeMap;

/// Most threads a pool is given (each holds a simulation's state; more threads than this are
/// a typing error, not a machine).
pub const MAX_THREADS: usize = 1024;

/// A rayon pool of `jobs` threads (0 = one per core).
pub fn pool(jobs: usize) -> Result<rayon::ThreadPool, String> {
    if jobs > MAX_THREADS {
        return Err(format!(
            "{jobs} threads asked for: at most {MAX_THREADS} (0 = one per core)"
        ));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| format!("cannot start {jobs} worker threads: {e}"))
}

/// Runs `job` on every item of `items` on `pool` and hands the results to `sink` on the
/// calling thread, in the order of `items`. When `sink` fails, the remaining results are
/// dropped (the jobs already started finish) and the error is returned.
pub fn run_in_order<T, R, E>(
    items: &[T],
    pool: &rayon::ThreadPool,
    job: impl Fn(&T) -> R + Sync,
    mut sink: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
{
    use rayon::prelude::*;
    let (tx, rx) = std::sync::mpsc::channel::<(usize, R)>();
    let job = &job;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            pool.install(|| {
                items
                    .par_iter()
                    .enumerate()
                    .for_each_with(tx, |tx, (k, item)| {
                        // the receiver is gone only when the sink failed: stop quietly
                        let _ = tx.send((k, job(item)));
                    });
            });
        });
        let mut pending: BTreeMap<usize, R> = BTreeMap::new();
        let mut next = 0usize;
        for (k, r) in rx {
            pending.insert(k, r);
            while let Some(r) = pending.remove(&next) {
                sink(r)?;
                next += 1;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_input_order_for_any_pool() {
        let items: Vec<u64> = (0..200).collect();
        for jobs in [1, 2, 4] {
            let p = pool(jobs).unwrap();
            let mut got = Vec::new();
            run_in_order(
                &items,
                &p,
                |&i| {
                    // uneven work, so late items often finish first
                    std::thread::sleep(std::time::Duration::from_micros((200 - i) * 5));
                    i * i
                },
                |r| {
                    got.push(r);
                    Ok::<(), ()>(())
                },
            )
            .unwrap();
            assert_eq!(
                got,
                items.iter().map(|i| i * i).collect::<Vec<_>>(),
                "{jobs}"
            );
        }
    }

    #[test]
    fn a_failing_sink_stops_with_its_error() {
        let items: Vec<u32> = (0..50).collect();
        let p = pool(2).unwrap();
        let mut seen = 0;
        let r = run_in_order(
            &items,
            &p,
            |&i| i,
            |i| {
                seen += 1;
                if i == 10 {
                    Err(format!("stop at {i}"))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(r, Err("stop at 10".to_string()));
        assert_eq!(seen, 11);
    }
}
