//! `/api/openapi.json`: the API's description, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{books, covers, events, job_orders, print_exports, summary};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pressroom hub",
        description = "Books, covers, job orders and print exports. Every write commits with an \
                       analytics event (seq, epoch) that is broadcast on the Action Cable channel \
                       AnalyticsChannel at /cable and served again by /api/events."
    ),
    paths(
        books::create, books::list, books::show,
        covers::create, covers::list, covers::show,
        job_orders::create, job_orders::list, job_orders::show,
        print_exports::start, print_exports::list, print_exports::show,
        print_exports::complete, print_exports::fail,
        summary::show, events::list,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
