//! A small scoped worker pool that maps items in parallel and keeps input order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;

/// `f` applied to every item on up to `parallelism` threads; results in input order.
pub(crate) fn map_ordered<T, R, F>(items: &[T], parallelism: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let workers = parallelism.clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every index is claimed by exactly one worker"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_input_order_whatever_the_finishing_order() {
        let items: Vec<u64> = (0..40).collect();
        let out = map_ordered(&items, 4, |&i| {
            thread::sleep(std::time::Duration::from_millis((40 - i) % 7));
            i * 10
        });
        assert_eq!(out, items.iter().map(|i| i * 10).collect::<Vec<_>>());
    }

    #[test]
    fn empty_input_and_zero_parallelism_are_fine() {
        assert!(map_ordered(&[] as &[u8], 0, |&x| x).is_empty());
        assert_eq!(map_ordered(&[1, 2], 0, |&x| x + 1), vec![2, 3]);
    }
}
