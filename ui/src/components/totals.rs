use gloo::timers::callback::Timeout;
use pressroom_protocol::Totals;
use yew::prelude::*;

use crate::hooks::until_step;

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
                <TotalCard key={key} name={key} label={label} value={value} />
            }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct CardProps {
    name: &'static str,
    label: &'static str,
    value: u64,
}

/// A changed count stays highlighted until the clock's next step of this, after its last change.
const HIGHLIGHT_MS: u32 = 1000;

/// One count, always the exact value of the latest frame, highlighted while it is changing: one
/// repaint to highlight and one to settle, however many changes come in between (no count-up
/// or flash animation, which would repaint the card at 60 Hz).
#[function_component]
fn TotalCard(props: &CardProps) -> Html {
    let changing = use_state_eq(|| false);
    let first = use_mut_ref(|| true);
    {
        let changing = changing.clone();
        use_effect_with(props.value, move |_| {
            // The first value is not a change; each later one restarts the settle timer.
            let settle = (!std::mem::replace(&mut *first.borrow_mut(), false)).then(|| {
                changing.set(true);
                // On a step of the clock, so settling shares a frame with the ticking times.
                Timeout::new(until_step(HIGHLIGHT_MS), move || changing.set(false))
            });
            move || drop(settle)
        });
    }
    html! {
        <article class={classes!("card", props.name, (*changing).then_some("changing"))}>
            <span class="label">{props.label}</span>
            <span class="value" data-testid={format!("total-{}", props.name)}>{format_count(props.value)}</span>
        </article>
    }
}

/// 12345 → "12,345".
fn format_count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::format_count;

    #[test]
    fn counts_are_grouped_in_thousands() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1000), "1,000");
        assert_eq!(format_count(1234567), "1,234,567");
    }
}
