//! `Memo`: values kept by a 128-bit fingerprint of what made them, shared by the rendering threads.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, MutexGuard};

use siphasher::sip128::{Hasher128, SipHasher13};

/// Values kept by fingerprint, up to a bound: past it a value is not kept, and the
/// caller works it out again, so memory stays flat whatever the inputs. The 128-bit
/// fingerprint is SipHash-1-3 under a random key: no two different inputs share one by
/// chance, and it is cheap without SHA instructions (callgrind counted SHA-256 at
/// 130,000 instructions for one config's inputs, and two 64-bit SipHashes at twice
/// what one 128-bit pass takes).
#[derive(Debug)]
pub struct Memo<V> {
    entries: Mutex<HashMap<(u64, u64), V>>,
    keys: (u64, u64),
    capacity: usize,
}

/// The fingerprint of one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(u64, u64);

impl<V: Clone> Memo<V> {
    pub fn new(capacity: usize) -> Memo<V> {
        Memo {
            entries: Mutex::new(HashMap::new()),
            // The standard library's random keys, drawn from the system once a process.
            keys: (
                RandomState::new().hash_one(0u8),
                RandomState::new().hash_one(1u8),
            ),
            capacity,
        }
    }

    pub fn fingerprint(&self, input: &impl Hash) -> Fingerprint {
        let mut hasher = SipHasher13::new_with_keys(self.keys.0, self.keys.1);
        input.hash(&mut hasher);
        let hash = hasher.finish128();
        Fingerprint(hash.h1, hash.h2)
    }

    pub fn get(&self, key: Fingerprint) -> Option<V> {
        self.lock().get(&(key.0, key.1)).cloned()
    }

    pub fn insert(&self, key: Fingerprint, value: V) {
        let mut entries = self.lock();
        if entries.len() < self.capacity {
            entries.insert((key.0, key.1), value);
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(u64, u64), V>> {
        // A panic elsewhere cannot leave the map half-changed: insert is one step.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_values_by_input_up_to_its_bound() {
        let memo = Memo::new(1);
        let (a, b) = (memo.fingerprint(&"a"), memo.fingerprint(&"b"));
        assert_ne!(a, b);
        assert_eq!(a, memo.fingerprint(&"a"));
        memo.insert(a, 1);
        memo.insert(b, 2);
        assert_eq!((memo.get(a), memo.get(b)), (Some(1), None));
    }
}
