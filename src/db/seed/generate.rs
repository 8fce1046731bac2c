//! The demo data itself: books and ratings drawn from one seeded stream, so
//! the same seed gives the same rows on either backend. Popularity follows a
//! Zipf-like law so that the chart means something.

use chrono::{NaiveDateTime, TimeDelta};

use crate::db::models::{NewBook, NewRating};

/// Ratings are spread over this long before the plan's anchor.
const SPREAD: TimeDelta = TimeDelta::days(60);

/// `SplitMix64`: tiny, fast and fixed forever, so a seed's data never changes
/// with a dependency's version.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    #[expect(clippy::cast_precision_loss, reason = "53 bits, exact in an f64")]
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    #[expect(clippy::cast_possible_truncation, reason = "below n, a usize")]
    fn index_below(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.index_below(items.len())]
    }
}

const ADJECTIVES: &[&str] = &[
    "Silent",
    "Crimson",
    "Hidden",
    "Last",
    "Winter",
    "Broken",
    "Golden",
    "Distant",
    "Burning",
    "Secret",
    "Quiet",
    "Forgotten",
    "Electric",
    "Velvet",
    "Hollow",
    "Wandering",
    "Glass",
    "Northern",
    "Paper",
    "Midnight",
    "Salt",
    "Iron",
    "Bright",
    "Lost",
];
const NOUNS: &[&str] = &[
    "Garden",
    "River",
    "Archive",
    "Lighthouse",
    "Orchard",
    "Map",
    "Harbor",
    "Kingdom",
    "Letter",
    "Clockmaker",
    "Island",
    "Library",
    "Season",
    "Mirror",
    "Voyage",
    "Empire",
    "Forest",
    "Bridge",
    "Cartographer",
    "Engine",
    "Sparrow",
    "Tide",
    "Observatory",
    "Compass",
];
const PLACES: &[&str] = &[
    "Avalon",
    "the North",
    "Lisbon",
    "the Valley",
    "Samarkand",
    "the Coast",
    "Prague",
    "the Moon",
    "Kyoto",
    "the Marsh",
    "Alexandria",
    "the Steppe",
];
const FIRST_NAMES: &[&str] = &[
    "Ada", "Bruno", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
    "Kamala", "Lars", "Mira", "Nikolai", "Olga", "Pablo", "Quinn", "Rosa", "Samir", "Tove", "Ugo",
    "Vera", "Wen", "Yara",
];
const LAST_NAMES: &[&str] = &[
    "Abbott",
    "Bianchi",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quiroga",
    "Rossi",
    "Silva",
    "Takahashi",
    "Ueda",
    "Varga",
    "Weber",
    "Zhang",
];
const THEMES: &[&str] = &[
    "memory and loss",
    "a family secret",
    "an impossible journey",
    "the sea",
    "a vanished city",
    "friendship across a war",
    "the making of a map",
    "a long winter",
    "an unlikely inheritance",
    "a stolen manuscript",
    "the first summer after",
    "a town that keeps time",
];

fn title(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("The {} {}", rng.pick(ADJECTIVES), rng.pick(NOUNS)),
        1 => format!("{} of {}", rng.pick(NOUNS), rng.pick(PLACES)),
        2 => format!("The {}'s {}", rng.pick(NOUNS), rng.pick(NOUNS)),
        _ => format!(
            "{} {} in {}",
            rng.pick(ADJECTIVES),
            rng.pick(NOUNS),
            rng.pick(PLACES)
        ),
    }
}

/// A valid ISBN-13, unique per index.
pub fn isbn13_for(index: u32) -> String {
    let body = format!("979{index:09}");
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

#[expect(clippy::cast_possible_truncation, reason = "a year below 176")]
pub(super) fn new_book(rng: &mut Rng, index: u32, now: NaiveDateTime) -> NewBook {
    let title = title(rng);
    let author = format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES));
    let description = format!(
        "A novel about {} and {}. {} tells it in {} chapters.",
        rng.pick(THEMES),
        rng.pick(THEMES),
        author,
        8 + rng.below(30)
    );
    NewBook {
        title,
        author,
        isbn: Some(isbn13_for(index)),
        description,
        published_year: Some(1850 + rng.below(176) as i32),
        created_at: now,
        updated_at: now,
    }
}

/// Samples book positions with P(rank r) proportional to 1 / (r + 10)^1.1.
struct Popularity {
    cdf: Vec<f64>,
    /// rank -> position in the inserted books, so the favourites are not ids 1..10.
    order: Vec<u32>,
}

impl Popularity {
    fn new(rng: &mut Rng, books: u32) -> Self {
        let mut total = 0.0;
        let cdf = (0..books)
            .map(|r| {
                total += 1.0 / (f64::from(r) + 10.0).powf(1.1);
                total
            })
            .collect::<Vec<_>>();
        let cdf = cdf.into_iter().map(|c| c / total).collect();
        let mut order: Vec<u32> = (0..books).collect();
        for i in (1..order.len()).rev() {
            let j = rng.index_below(i + 1);
            order.swap(i, j);
        }
        Self { cdf, order }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        let rank = self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1);
        self.order[rank] as usize
    }
}

/// Draws ratings: a book by popularity, its stars around the book's quality,
/// a time in the [`SPREAD`] before the anchor.
pub(super) struct RatingDraw {
    ids: Vec<i32>,
    /// Each book's quality, which pulls its stars up or down.
    quality: Vec<f64>,
    popularity: Popularity,
    anchor: NaiveDateTime,
}

impl RatingDraw {
    /// `ids`: the seeded books (`books` of them), in insertion order.
    pub(super) fn new(rng: &mut Rng, ids: Vec<i32>, books: u32, anchor: NaiveDateTime) -> Self {
        let quality: Vec<f64> = ids.iter().map(|_| 2.2 + rng.unit() * 2.6).collect();
        let popularity = Popularity::new(rng, books);
        Self {
            ids,
            quality,
            popularity,
            anchor,
        }
    }

    #[expect(clippy::cast_possible_truncation, reason = "stars clamped to 1..=5")]
    pub(super) fn draw(&self, rng: &mut Rng, count: usize) -> Vec<NewRating> {
        let spread_secs = SPREAD.num_seconds().unsigned_abs();
        (0..count)
            .map(|_| {
                let pos = self.popularity.sample(rng);
                let noise = (rng.unit() + rng.unit() + rng.unit() - 1.5) * 1.6;
                let stars = (self.quality[pos] + noise).round().clamp(1.0, 5.0) as i32;
                let age = TimeDelta::seconds(1 + rng.below(spread_secs).cast_signed());
                NewRating {
                    book_id: self.ids[pos],
                    stars,
                    created_at: self.anchor - age,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbns_have_valid_check_digits() {
        // 979-0-00-000000-? computed by hand: weights 1,3,... over 979000000000.
        let isbn = isbn13_for(0);
        assert_eq!(isbn.len(), 13);
        let sum: u32 = isbn
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
            .sum();
        assert_eq!(sum % 10, 0, "{isbn}");
        assert_ne!(isbn13_for(1), isbn13_for(2));
    }

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let mut a = Rng(42);
        let mut b = Rng(42);
        let mut c = Rng(43);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn popularity_is_skewed() {
        let mut rng = Rng(7);
        let pop = Popularity::new(&mut rng, 1000);
        let mut hits = vec![0u32; 1000];
        for _ in 0..100_000 {
            hits[pop.sample(&mut rng)] += 1;
        }
        hits.sort_unstable_by(|a, b| b.cmp(a));
        let top10: u32 = hits[..10].iter().sum();
        let bottom500: u32 = hits[500..].iter().sum();
        assert!(top10 > bottom500 / 2, "top10={top10} bottom500={bottom500}");
        assert!(hits[0] > 20 * hits[999].max(1));
    }
}
