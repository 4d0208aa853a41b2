import { useState, type FormEvent } from 'react';
import { fetchDevToken, type DevSession } from './connection';

/** The README's example company and users, so tokens from `npm run token` and from here name the same people. */
export const DEV_COMPANY = '7d3e9f10-1111-4222-8333-944455556666';
export const DEV_USERS = [
  { name: 'Alice', userId: '2f6c1b0e-3a4d-4e5f-8a9b-0c1d2e3f4a5b' },
  { name: 'Bob', userId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' },
  { name: 'Carol', userId: '5c4b3a29-1807-4f6e-9d5c-4b3a29180706' },
];

export function DevUserPicker({ onPick }: { onPick: (session: DevSession) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);

  const pick = async (claims: { name: string; userId?: string }) => {
    setError(null);
    try {
      onPick(await fetchDevToken({ ...claims, companyId: DEV_COMPANY }));
    } catch (e) {
      setError(`Could not get a development token: ${(e as Error).message}`);
    }
  };
  const join = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) void pick({ name: name.trim() });
  };

  return (
    <div className="picker">
      <h1>Chat API example</h1>
      <p>Pick a development user (tokens come from the API's POST /dev/token, served outside production only).</p>
      <div className="picker-users">
        {DEV_USERS.map((user) => (
          <button key={user.userId} data-testid={`dev-user-${user.name}`} onClick={() => void pick(user)}>
            {user.name}
          </button>
        ))}
      </div>
      <form onSubmit={join}>
        <input data-testid="dev-user-name" placeholder="or someone new: a name" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit">Join</button>
      </form>
      {error && <p className="error" data-testid="picker-error">{error}</p>}
    </div>
  );
}
