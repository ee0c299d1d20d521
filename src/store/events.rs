//! Creating events.

use super::{arg, scripts, AnswerArgs, ScriptReply, Store, StoreError};
use crate::ids::EventId;

impl Store {
    /// Creates `event` with its rows (as the record stores them), unless it exists.
    pub fn create_event(
        &self,
        event: &EventId,
        answer: &AnswerArgs,
        name: &str,
        rows_record: &str,
        seat_count: u32,
        created_at_ms: u64,
    ) -> Result<ScriptReply, StoreError> {
        self.run_answer_script(
            scripts::CREATE_EVENT,
            event,
            answer,
            vec![
                arg(name),
                arg(rows_record),
                arg(seat_count.to_string()),
                arg(created_at_ms.to_string()),
            ],
        )
    }
}
