import { Link, Outlet } from 'react-router';
import type { CombinedError } from 'urql';

export function Layout() {
  return (
    <>
      <header>
        <Link to="/" className="brand">Lifecycle Workflows</Link>
        <span className="muted">task reports from lcw-gateway</span>
      </header>
      <main>
        <Outlet />
      </main>
    </>
  );
}

// ErrorBox shows a request's error with the gateway's stable code (extensions.code).
export function ErrorBox({ error }: { error: CombinedError }) {
  const codes = error.graphQLErrors.map((e) => e.extensions?.code).filter(Boolean);
  return (
    <p role="alert" className="error">
      {error.message}
      {codes.length > 0 && <> ({codes.join(', ')})</>}
    </p>
  );
}

const statusClass: Record<string, string> = {
  completed: 'ok',
  completedWithErrors: 'warn',
  failed: 'bad',
  inProgress: 'busy',
  queued: 'busy',
  canceled: 'muted',
};

// Status is a processing status as a coloured badge.
export function Status({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="badge muted">no run</span>;
  return <span className={`badge ${statusClass[value] ?? 'muted'}`}>{value}</span>;
}

export function when(dateTime: string | null | undefined): string {
  return dateTime ? new Date(dateTime).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '–';
}
