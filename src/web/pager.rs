//! The pager under a long list, readers' and admin's alike (templates call
//! [`pager`]).

/// One numbered link of the pager.
pub(crate) struct PageLink {
    pub(crate) n: u32,
    pub(crate) current: bool,
}

/// The pager's links (`None` marks a gap), for the template.
#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "askama passes these template values by reference"
)]
pub(crate) fn pager(current: &u32, total: &u32) -> Vec<Option<PageLink>> {
    page_window(*current, *total)
        .into_iter()
        .map(|n| {
            n.map(|n| PageLink {
                n,
                current: n == *current,
            })
        })
        .collect()
}

/// The numbered pages a pager shows: the first, the last, and two either
/// side of the current one; `None` marks a gap.
fn page_window(current: u32, total: u32) -> Vec<Option<u32>> {
    let mut shown: Vec<Option<u32>> = Vec::new();
    let near = current.saturating_sub(2).max(1)..=current.saturating_add(2).min(total);
    for n in 1..=total {
        if n == 1 || n == total || near.contains(&n) {
            if shown
                .last()
                .is_some_and(|last| last.is_some_and(|l| l + 1 != n))
            {
                shown.push(None);
            }
            shown.push(Some(n));
        } else if n > *near.end() {
            // Skip straight to the last page.
            if shown.last().is_some_and(Option::is_some) {
                shown.push(None);
            }
            shown.push(Some(total));
            break;
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_shows_ends_and_neighbours_with_gaps() {
        let window = |c, t| -> Vec<u32> {
            page_window(c, t)
                .into_iter()
                .map(|p| p.unwrap_or(0))
                .collect()
        };
        assert_eq!(window(1, 1), [1]);
        assert_eq!(window(1, 3), [1, 2, 3]);
        assert_eq!(window(1, 40), [1, 2, 3, 0, 40]);
        assert_eq!(window(20, 40), [1, 0, 18, 19, 20, 21, 22, 0, 40]);
        assert_eq!(window(40, 40), [1, 0, 38, 39, 40]);
        assert_eq!(window(4, 7), [1, 2, 3, 4, 5, 6, 7]);
        // Cheap for any page number: the loop stops after the window.
        assert_eq!(window(3, 1_000_000).len(), 7);
    }
}
