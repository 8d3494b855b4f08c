use chrono::Local;
use pressroom_protocol::volume::Bucket;
use pressroom_protocol::JobOrderVolume;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub volume: JobOrderVolume,
}

#[derive(Clone, Copy, PartialEq)]
enum Range {
    Hour,
    Day,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 34.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 10.0;

/// Job orders per minute for the last hour, or per hour for 24 h, as SVG bars with axes and
/// hover values. The series arrive at most once a second, so re-rendering is cheap.
#[function_component]
pub fn VolumeChart(props: &ChartProps) -> Html {
    let range = use_state(|| Range::Hour);
    let hovered = use_state(|| None::<usize>);
    let series: &[Bucket] = match *range {
        Range::Hour => &props.volume.per_minute,
        Range::Day => &props.volume.per_hour,
    };
    let max = series.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let ceiling = nice_ceiling(max);
    let plot_w = WIDTH - LEFT - 6.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / series.len().max(1) as f64;
    let total: u64 = series.iter().map(|b| b.count).sum();
    let label = |bucket: &Bucket| {
        let local = bucket.t.with_timezone(&Local);
        match *range {
            Range::Hour => local.format("%H:%M").to_string(),
            Range::Day => local.format("%H:00").to_string(),
        }
    };
    let every = if *range == Range::Hour { 10 } else { 4 };
    let pick = |r: Range| {
        let range = range.clone();
        let hovered = hovered.clone();
        Callback::from(move |_: MouseEvent| {
            hovered.set(None);
            range.set(r);
        })
    };
    let readout = match *hovered {
        Some(i) if i < series.len() => {
            let b = &series[i];
            format!("{} job order{} at {}", b.count, if b.count == 1 { "" } else { "s" }, label(b))
        }
        _ => format!(
            "{total} job order{} in the last {}",
            if total == 1 { "" } else { "s" },
            if *range == Range::Hour { "hour" } else { "24 hours" }
        ),
    };
    html! {
        <section class="panel chart" aria-label="Job order volume">
            <div class="panel-head">
                <h2>{"Job order volume"}</h2>
                <div class="segmented" role="group" aria-label="Range">
                    <button class={classes!((*range == Range::Hour).then_some("on"))} onclick={pick(Range::Hour)}>{"Last hour"}</button>
                    <button class={classes!((*range == Range::Day).then_some("on"))} onclick={pick(Range::Day)}>{"24 hours"}</button>
                </div>
            </div>
            <p class="readout" data-testid="chart-readout">{readout}</p>
            <svg viewBox={format!("0 0 {WIDTH} {HEIGHT}")} class="bars" role="img"
                 aria-label="Job orders over time" onmouseleave={{ let h = hovered.clone(); move |_| h.set(None) }}>
                { for [0.0, 0.5, 1.0].into_iter().map(|f| {
                    let y = TOP + plot_h * (1.0 - f);
                    html! {
                        <g class="grid">
                            <line x1={LEFT.to_string()} x2={(WIDTH - 6.0).to_string()} y1={y.to_string()} y2={y.to_string()} />
                            <text x={(LEFT - 6.0).to_string()} y={(y + 4.0).to_string()} text-anchor="end">
                                {((ceiling as f64) * f).round().to_string()}
                            </text>
                        </g>
                    }
                }) }
                { for series.iter().enumerate().map(|(i, bucket)| {
                    let h = plot_h * bucket.count as f64 / ceiling as f64;
                    let x = LEFT + slot * i as f64;
                    let on = *hovered == Some(i);
                    let hover = { let hovered = hovered.clone(); move |_: MouseEvent| hovered.set(Some(i)) };
                    html! {
                        <g key={bucket.t.timestamp()} class={classes!("bar", on.then_some("on"))} onmouseenter={hover}>
                            <rect class="hit" x={x.to_string()} y={TOP.to_string()} width={slot.to_string()} height={plot_h.to_string()} />
                            <rect class="fill" x={(x + slot * 0.15).to_string()} y={(TOP + plot_h - h).to_string()}
                                  width={(slot * 0.7).max(1.0).to_string()} height={h.max(0.0).to_string()} rx="1.5" />
                            <title>{format!("{}: {}", label(bucket), bucket.count)}</title>
                            if i % every == 0 {
                                <text class="tick" x={(x + slot / 2.0).to_string()} y={(HEIGHT - 6.0).to_string()} text-anchor="middle">
                                    {label(bucket)}
                                </text>
                            }
                        </g>
                    }
                }) }
            </svg>
        </section>
    }
}

/// A round axis maximum at or above `max`: 1, 2, 5, 10, 20, 50, …
fn nice_ceiling(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if step * factor >= max {
                return step * factor;
            }
        }
        step *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::nice_ceiling;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!([1, 2, 3, 7, 11, 49, 51, 730].map(nice_ceiling), [1, 2, 5, 10, 20, 50, 100, 1000]);
    }
}
