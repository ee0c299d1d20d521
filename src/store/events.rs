//! Creating events.

use super::outcomes::{Answer, CreateEventRefusal};
use super::queue::WaitingRoom;
use super::{arg, scripts, AnswerArgs, Store, StoreError};
use crate::ids::EventId;

impl Store {
    /// Creates `event` with its rows (as the record stores them) and its
    /// waiting room, if any, unless it exists.
    #[allow(clippy::too_many_arguments)]
    pub fn create_event(
        &self,
        event: &EventId,
        answer: &AnswerArgs,
        name: &str,
        rows_record: &str,
        seat_count: u32,
        created_at_ms: u64,
        waiting_room: Option<WaitingRoom>,
    ) -> Result<Answer<CreateEventRefusal>, StoreError> {
        let (rate, minutes) = waiting_room.map_or((String::new(), String::new()), |room| {
            (
                room.admit_per_minute.to_string(),
                room.access_minutes.to_string(),
            )
        });
        self.run_answer_script(
            &scripts::CREATE_EVENT,
            event,
            answer,
            vec![
                arg(name),
                arg(rows_record),
                arg(seat_count.to_string()),
                arg(created_at_ms.to_string()),
                arg(rate),
                arg(minutes),
            ],
        )
    }
}
