//! Why a Redis call did not answer. Every variant means the same to a
//! caller (Redis is unavailable: fail open, or answer 503 where state is
//! needed); they differ only in what the log says.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("redis: {0}")]
    Command(#[from] ::redis::RedisError),
    #[error("redis pool: {0}")]
    Pool(String),
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("redis is unavailable (circuit breaker open)")]
    BreakerOpen,
    /// Sentinel names no reachable master yet.
    #[error("redis: no master known for {0:?} (sentinels not answering)")]
    NoMaster(String),
}
