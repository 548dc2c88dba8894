//! The sparse chain history a node sends in `NOTIFY_REQUEST_CHAIN` (2006): monerod's
//! `Blockchain::get_short_chain_history`.

/// Heights of the ids in a sparse history of a chain of `block_count` blocks: the top ten,
/// then back-offs doubling, then the genesis block.
pub fn sparse_history_heights(block_count: u64) -> Vec<u64> {
    let mut out = Vec::new();
    if block_count == 0 {
        return out;
    }
    let (mut i, mut multiplier, mut back) = (0u32, 1u64, 1u64);
    let mut genesis = false;
    while back < block_count {
        let h = block_count - back;
        out.push(h);
        if h == 0 {
            genesis = true;
        }
        if i < 10 {
            back += 1;
        } else {
            multiplier = multiplier.saturating_mul(2);
            back = back.saturating_add(multiplier);
        }
        i += 1;
    }
    if !genesis {
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_get_short_chain_history() {
        assert_eq!(sparse_history_heights(0), Vec::<u64>::new());
        assert_eq!(sparse_history_heights(1), vec![0]);
        assert_eq!(sparse_history_heights(3), vec![2, 1, 0]);
        // 10 sequential after the top, then 2, 4, 8, ... back.
        let h = sparse_history_heights(1000);
        assert_eq!(
            &h[..11],
            &[999, 998, 997, 996, 995, 994, 993, 992, 991, 990, 989]
        );
        assert_eq!(&h[11..15], &[987, 983, 975, 959]);
        assert_eq!(*h.last().unwrap(), 0);
        assert!(h.windows(2).all(|w| w[0] > w[1]));
    }
}
