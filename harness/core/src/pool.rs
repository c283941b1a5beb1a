//! Independent jobs on a few threads: the harness runs cases, cells and quirk builds this way.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Applies `f` to every item on `jobs` threads (at least one) and returns the results in the
/// items' order. `f` also gets the index of the thread running it (for per-thread scratch
/// folders). A slot is `None` only if its job panicked.
pub fn parallel_map<T, R, F>(items: &[T], jobs: usize, f: F) -> Vec<Option<R>>
where
    T: Sync,
    R: Send,
    F: Fn(usize, &T) -> R + Sync,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for thread in 0..jobs.max(1) {
            let (next, results, f) = (&next, &results, &f);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else {
                    break;
                };
                let result = f(thread, item);
                if let Ok(mut slots) = results.lock() {
                    if let Some(slot) = slots.get_mut(i) {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::parallel_map;

    #[test]
    fn results_keep_the_items_order_whatever_the_threads() {
        let items: Vec<u64> = (0..500).collect();
        for jobs in [0, 1, 3, 8] {
            let out = parallel_map(&items, jobs, |_, x| x * 2);
            let expected: Vec<Option<u64>> = items.iter().map(|x| Some(x * 2)).collect();
            assert_eq!(out, expected, "{jobs} jobs");
        }
    }
}
