import { useState } from 'react';
import { useQuery } from 'urql';
import { CostQuery } from '../documents.js';
import { costRange, daysBefore, formatCount, formatUsd, isoDay } from '../format.js';

/** Spend in a date range: six summary cards, then by model and by chat (sub-agents roll up into their root). */
export function CostView() {
  const today = new Date();
  const [from, setFrom] = useState(isoDay(daysBefore(today, 29)));
  const [to, setTo] = useState(isoDay(today));
  // The API's range is half-open [startDate, endDate): the end day is included by asking for the next midnight.
  const variables = costRange(from, to);
  const [{ data, error, fetching }] = useQuery({ query: CostQuery, variables });
  const summary = data?.costSummary;
  return (
    <article className="cost-view" data-testid="cost-view">
      <header className="cost-header">
        <h1>Costs</h1>
        <label>From <input type="date" aria-label="From" value={from} max={to} onChange={(e) => e.target.value && setFrom(e.target.value)} /></label>
        <label>To <input type="date" aria-label="To" value={to} min={from} onChange={(e) => e.target.value && setTo(e.target.value)} /></label>
        {fetching && <span className="muted">updating…</span>}
      </header>
      {error && <p role="alert">{error.message}</p>}
      {summary && (
        <>
          <div className="cards">
            <Card label="Total cost" value={formatUsd(summary.totalCostMicros)} testId="total-cost" />
            <Card label="Input tokens" value={formatCount(summary.totalInputTokens)} testId="input-tokens" />
            <Card label="Output tokens" value={formatCount(summary.totalOutputTokens)} testId="output-tokens" />
            <Card label="Cache read" value={formatCount(summary.totalCacheReadTokens)} testId="cache-read-tokens" />
            <Card label="Cache write" value={formatCount(summary.totalCacheCreationTokens)} testId="cache-write-tokens" />
            <Card label="Messages" value={formatCount(summary.messageCount)} testId="messages"
              note={summary.unpricedMessageCount > 0 ? `${summary.unpricedMessageCount} unpriced` : undefined} />
          </div>
          <h2>By model</h2>
          <table data-testid="by-model">
            <thead><tr><th>Model</th><th>Provider</th><th>Messages</th><th>Input</th><th>Output</th><th>Cost</th></tr></thead>
            <tbody>
              {summary.byModel.map((row) => (
                <tr key={row.modelConfigId ?? row.displayName ?? 'none'}>
                  <td>{row.displayName ?? 'unknown'}</td><td>{row.provider}</td><td>{row.messageCount}</td>
                  <td>{formatCount(row.totals.totalInputTokens)}</td><td>{formatCount(row.totals.totalOutputTokens)}</td><td>{formatUsd(row.totals.totalCostMicros)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>By chat</h2>
          <table data-testid="by-chat">
            <thead><tr><th>Chat</th><th>Messages</th><th>Input</th><th>Output</th><th>Cost</th></tr></thead>
            <tbody>
              {summary.byChat.map((row) => (
                <tr key={row.rootChatId}>
                  <td><a href={`#/chat/${encodeURIComponent(row.rootChatId)}`}>{row.chatTitle}</a></td><td>{row.messageCount}</td>
                  <td>{formatCount(row.totals.totalInputTokens)}</td><td>{formatCount(row.totals.totalOutputTokens)}</td><td>{formatUsd(row.totals.totalCostMicros)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </article>
  );
}

function Card({ label, value, testId, note }: { label: string; value: string; testId: string; note?: string }) {
  return (
    <div className="card" data-testid={testId}>
      <div className="card-label">{label}</div>
      <div className="card-value">{value}</div>
      {note && <div className="muted">{note}</div>}
    </div>
  );
}
