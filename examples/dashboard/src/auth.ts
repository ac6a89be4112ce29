// Sign-in for a gateway started with --auth jwt: MSAL (Entra ID) gets an access token for the
// gateway's scope and every request carries it as a bearer token. Loaded only when
// VITE_MSAL_CLIENT_ID is set (see README.md); without it the dashboard sends no token, as
// `go run .` (--auth none) expects.
import {
  InteractionRequiredAuthError,
  PublicClientApplication,
  type AccountInfo,
} from '@azure/msal-browser';

const env = import.meta.env;
// The gateway's scope: its Application ID URI and a scope (or /.default) of its app registration.
const scopes = [env.VITE_GATEWAY_SCOPE ?? 'api://lcw-gateway/.default'];

const msal = new PublicClientApplication({
  auth: {
    clientId: env.VITE_MSAL_CLIENT_ID ?? '', // set, or this module is not loaded
    authority: `https://login.microsoftonline.com/${env.VITE_MSAL_TENANT_ID ?? 'organizations'}`,
    redirectUri: window.location.origin,
  },
  cache: { cacheLocation: 'sessionStorage' },
});

// ready finishes a sign-in redirect, or starts one when nobody is signed in yet.
const ready: Promise<AccountInfo | null> = (async () => {
  await msal.initialize();
  const redirect = await msal.handleRedirectPromise();
  const account = redirect?.account ?? msal.getActiveAccount() ?? msal.getAllAccounts()[0] ?? null;
  if (!account) {
    await msal.loginRedirect({ scopes });
    return null; // the page navigates away
  }
  msal.setActiveAccount(account);
  return account;
})();

// accessToken is a valid token for the gateway: from MSAL's cache, refreshed silently when it
// expires, interactively when the session needs it (consent, MFA, a new password).
export async function accessToken(): Promise<string> {
  const account = await ready;
  if (!account) throw new Error('signing in');
  try {
    return (await msal.acquireTokenSilent({ scopes, account })).accessToken;
  } catch (err) {
    if (err instanceof InteractionRequiredAuthError) await msal.acquireTokenRedirect({ scopes, account });
    throw err;
  }
}

// authorizedFetch is fetch with the bearer token, for urql's `fetch` option.
export const authorizedFetch: typeof fetch = async (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set('authorization', `Bearer ${await accessToken()}`);
  return fetch(input, { ...init, headers });
};
