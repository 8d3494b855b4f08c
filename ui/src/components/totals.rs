use gloo::timers::callback::{Interval, Timeout};
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

/// Steps of the count-up, 16 ms apart (about 300 ms in all).
const STEPS: u64 = 18;
/// A value that changes again sooner than this after the last change is shown at once: under a
/// flood a count-up would never finish, and would repaint the card at 60 Hz for nothing.
const CALM_MS: f64 = 1000.0;

/// One count that counts up to its new value and flashes briefly when it changes.
#[function_component]
fn TotalCard(props: &CardProps) -> Html {
    let shown = use_state_eq(|| props.value);
    let flash = use_state_eq(|| false);
    let last_change = use_mut_ref(|| f64::NEG_INFINITY);
    {
        let (shown, flash) = (shown.clone(), flash.clone());
        use_effect_with(props.value, move |&target| {
            let from = *shown;
            let mut timers = None;
            let now = js_sys::Date::now();
            let calm = now - std::mem::replace(&mut *last_change.borrow_mut(), now) >= CALM_MS;
            if from != target {
                flash.set(true);
                let unflash = Timeout::new(700, move || flash.set(false));
                let count_up = calm.then(|| {
                    let mut step = 0;
                    let count = shown.clone();
                    let steps = Interval::new(16, move || {
                        step += 1;
                        let value = if step >= STEPS {
                            target
                        } else {
                            let progress = step as f64 / STEPS as f64;
                            let eased = 1.0 - (1.0 - progress).powi(3);
                            (from as f64 + (target as f64 - from as f64) * eased).round() as u64
                        };
                        count.set(value);
                    });
                    // The last step sets the exact value; this makes sure of it. Dropping both
                    // early (a newer value) is fine: the next effect counts on from what is shown.
                    let settle = Timeout::new(16 * (STEPS as u32 + 1), {
                        let shown = shown.clone();
                        move || shown.set(target)
                    });
                    (steps, settle)
                });
                if !calm {
                    shown.set(target);
                }
                timers = Some((count_up, unflash));
            }
            move || drop(timers)
        });
    }
    html! {
        <article class={classes!("card", props.name, (*flash).then_some("flash"))}>
            <span class="label">{props.label}</span>
            <span class="value" data-testid={format!("total-{}", props.name)}>{format_count(*shown)}</span>
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
