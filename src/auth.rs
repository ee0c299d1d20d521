//! Bearer tokens: the admin token (a secret Spin variable) for creating
//! events, and the hold and booking tokens clients present as
//! `Authorization: Bearer <token>` (read by `Request::bearer`).

use spin_sdk::variables;

use crate::http::{Kind, Problem};
use crate::token::same_secret;

/// The Spin variable holding the admin token. Empty or unset disables the
/// admin endpoints: no default admin token ships enabled.
pub(crate) const ADMIN_TOKEN_VARIABLE: &str = "admin_token";

/// 401 when a request carries no bearer token.
pub(crate) fn unauthorized(what: &str) -> Problem {
    Problem::new(
        Kind::Unauthorized,
        format!("send the {what} as Authorization: Bearer <token>"),
    )
    .with_header("www-authenticate", "Bearer")
}

/// 403 when the token is wrong; the answer never says which part was wrong.
pub(crate) fn forbidden() -> Problem {
    Problem::new(Kind::Forbidden, "the token does not grant this")
}

/// Lets the request through only when its bearer token is the configured
/// admin token.
pub(crate) fn require_admin(bearer: Option<&str>) -> Result<(), Problem> {
    let given = bearer.ok_or_else(|| unauthorized("admin token"))?;
    let expected = variables::get(ADMIN_TOKEN_VARIABLE).unwrap_or_default();
    if expected.is_empty() {
        return Err(Problem::new(
            Kind::AdminDisabled,
            "no admin token is configured; set the admin_token variable",
        ));
    }
    if same_secret(given, &expected) {
        Ok(())
    } else {
        Err(forbidden())
    }
}
