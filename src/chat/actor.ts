/** Who is calling: the verified claims of their token. */
export interface Actor {
  id: string;
  displayName: string | null;
  companyId: string | null;
}
