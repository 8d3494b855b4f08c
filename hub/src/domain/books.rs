use chrono::{DateTime, Utc};
use pressroom_protocol::payload::{BookCreated, Payload};
use serde::Serialize;

use super::{invalid, timestamp, Domain, Resource, Write};
use crate::HubError;

#[derive(Debug, Clone)]
pub struct NewBook {
    pub title: String,
    /// Already validated and normalised (digits only, or ending in X).
    pub isbn: Option<String>,
    pub author: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Book {
    pub id: i64,
    pub title: String,
    pub isbn: Option<String>,
    pub author: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "id, title, isbn, author, created_at";

impl Resource for Book {
    const TABLE: &'static str = "books";
    const COLUMNS: &'static str = COLUMNS;
    const NAME: &'static str = "book";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Domain {
    pub async fn create_book(&self, book: NewBook) -> Result<Book, HubError> {
        let mut tx = self.begin_write().await?;
        let book = insert_book(&mut tx, book, Utc::now()).await?;
        self.commit(tx).await?;
        Ok(book)
    }
}

/// Inserts a book and its `book_created` event inside a write transaction.
pub(super) async fn insert_book(tx: &mut Write, book: NewBook, now: DateTime<Utc>) -> Result<Book, HubError> {
    if let Some(isbn) = &book.isbn {
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM books WHERE isbn = $1")
            .bind(isbn)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(id) = taken {
            return Err(invalid("isbn", format!("is already used by book #{id}")));
        }
    }
    let created_at = timestamp(now);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO books (title, isbn, author, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&book.title)
    .bind(&book.isbn)
    .bind(&book.author)
    .bind(&created_at)
    .fetch_one(&mut **tx)
    .await?;
    let payload = BookCreated {
        id: Some(id),
        title: Some(book.title.clone()),
        isbn: book.isbn.clone(),
        author: book.author.clone(),
    };
    tx.append(Payload::BookCreated(payload), now).await?;
    Ok(Book { id, title: book.title, isbn: book.isbn, author: book.author, created_at })
}

/// Checks an ISBN-10 or ISBN-13 (hyphens and spaces allowed) and returns it normalised.
pub fn normalise_isbn(text: &str) -> Result<String, &'static str> {
    let isbn: String = text.chars().filter(|c| !matches!(c, '-' | ' ')).collect::<String>().to_uppercase();
    let digit = |c: char| c.to_digit(10);
    match isbn.len() {
        10 => {
            let mut sum = 0;
            for (i, c) in isbn.chars().enumerate() {
                let value = match (i, c) {
                    (9, 'X') => 10,
                    _ => digit(c).ok_or("must contain only digits (and a final X for ISBN-10)")?,
                };
                sum += value * (10 - i as u32);
            }
            if sum % 11 == 0 {
                Ok(isbn)
            } else {
                Err("has a wrong check digit")
            }
        }
        13 => {
            let mut sum = 0;
            for (i, c) in isbn.chars().enumerate() {
                let value = digit(c).ok_or("must contain only digits")?;
                sum += if i % 2 == 0 { value } else { value * 3 };
            }
            if sum % 10 == 0 {
                Ok(isbn)
            } else {
                Err("has a wrong check digit")
            }
        }
        _ => Err("must be an ISBN-10 or ISBN-13"),
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_isbn;

    #[test]
    fn isbns_are_checked_and_normalised() {
        assert_eq!(normalise_isbn("978-0-306-40615-7"), Ok("9780306406157".into()));
        assert_eq!(normalise_isbn("0-306-40615-2"), Ok("0306406152".into()));
        assert_eq!(normalise_isbn("0-8044-2957-x"), Ok("080442957X".into()));
        assert_eq!(normalise_isbn("978-0-306-40615-8"), Err("has a wrong check digit"));
        assert_eq!(normalise_isbn("12345"), Err("must be an ISBN-10 or ISBN-13"));
        assert!(normalise_isbn("97803064061X7").is_err());
    }
}
