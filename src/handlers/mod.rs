//! One module per resource; each handler is a plain function from request
//! data to a response.

pub mod book;
pub mod health;
pub mod version;
