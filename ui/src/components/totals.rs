use pressroom_protocol::Totals;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TotalsProps {
    pub totals: Totals,
}

/// The four headline counts.
#[function_component]
pub fn TotalCards(props: &TotalsProps) -> Html {
    let t = props.totals;
    let cards = [
        ("books", "Books", t.books),
        ("covers", "Covers", t.covers),
        ("job_orders", "Job orders", t.job_orders),
        ("print_exports", "Print exports", t.print_exports),
    ];
    html! {
        <section class="totals" aria-label="Totals">
            { for cards.into_iter().map(|(key, label, value)| html! {
                <article class={classes!("card", key)} key={key}>
                    <span class="label">{label}</span>
                    <span class="value" data-testid={format!("total-{key}")}>{value}</span>
                </article>
            }) }
        </section>
    }
}
