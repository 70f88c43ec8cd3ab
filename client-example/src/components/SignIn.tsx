import { useState } from 'react';

/** Asks for a token: `npm start` prints one per demo user, `npx chatgraph token create <user>` makes one. */
export function SignIn({ defaultToken, onSignIn }: { defaultToken: string; onSignIn: (token: string) => void }) {
  const [token, setToken] = useState(defaultToken);
  return (
    <form className="signin" onSubmit={(e) => { e.preventDefault(); if (token.trim()) onSignIn(token.trim()); }}>
      <h1>chatgraph</h1>
      <label htmlFor="token">API token</label>
      <input id="token" name="token" value={token} onChange={(e) => setToken(e.target.value)} placeholder="cg_…" autoComplete="off" spellCheck={false} />
      <p className="hint">Use a demo token printed by <code>npm start</code>, or one from <code>npx chatgraph token create &lt;user&gt;</code>.</p>
      <button type="submit">Sign in</button>
    </form>
  );
}
