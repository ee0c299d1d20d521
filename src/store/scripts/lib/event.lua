-- defines: EVENT_KEY TAG
-- KEYS[1] is always the event's record, event:{E}. The other keys a script
-- touches are derived from its hash tag {E}, so every key of one call lives
-- in the same cluster slot as KEYS[1].
local EVENT_KEY = KEYS[1]
local TAG = string.match(EVENT_KEY, '^event:(%b{})$')
