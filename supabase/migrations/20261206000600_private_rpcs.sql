-- The two security-definer RPCs leave the schema the Data API exposes.
--
-- public.create_organization and public.accept_invitation were the last security-definer functions a
-- signed-in user could call through the Data API (`supabase.rpc(...)`): Supabase's linter warns on each
-- (authenticated_security_definer_function_executable, 0029), and 20261206000400_linter.sql kept them
-- as documented exceptions because the docs offered that path. Our architecture says clients talk to
-- the functions, never to tables or RPCs directly (PostgREST exists only on hosted Supabase, and the
-- product must behave the same in every mode), and POST /orgs and POST /orgs/invitations/accept are
-- those functions. So both move to `private`, where our functions call them as the signed-in user (the
-- same grants, the same checks inside), and the Data API cannot: one way in, and no exception left
-- in the exposed schema. `set schema` keeps their bodies, grants and comments.

alter function public.create_organization(text, text) set schema private;
alter function public.accept_invitation(text) set schema private;
