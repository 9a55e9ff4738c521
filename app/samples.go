package app

import "github.com/atrium-console/atrium"

// sampleAgreements are the version-1 texts of a new installation. They are marked
// as samples in the console until the operator publishes real ones.
var sampleAgreements = []struct{ Type, Title, Body string }{
	{atrium.AgreementPrivacy, "Privacy Statement (sample)", `SAMPLE TEXT — the operator of this console replaces it by publishing version 2.

1. What we collect. To run your account we keep your username, the email address and phone number you link, your profile picture, the times you sign in and the addresses you sign in from, and the agreements you sign.

2. Why. We use these data to sign you in, to verify your identity before sensitive changes, to send you verification codes and security notices, and to keep an audit trail of security events.

3. How long. We keep your data while your account exists. When an MSP account is deleted, its personal data are deleted; an audit record without personal data remains.

4. Your rights. You can see and export your personal data in Personal Center, correct it, and delete your account.

5. Security. Passwords are stored only as salted argon2id hashes; codes and session tokens only as hashes.`},
	{atrium.AgreementCustomer, "Customer Agreement (sample)", `SAMPLE TEXT — the operator of this console replaces it by publishing version 2.

1. The service. The console lets managed service providers (MSPs) look after the cloud services of their tenants.

2. Your account. Keep your password secret and your linked phone and email current. You are responsible for what is done with your account.

3. Acceptable use. Do not use the console to break the law, to attack other systems, or to access data you are not entitled to.

4. Changes. When this agreement changes, you will be asked to sign the new version at your next sign-in.`},
	{atrium.AgreementDeletion, "Terms and Conditions on Deletion (sample)", `SAMPLE TEXT — the operator of this console replaces it by publishing version 2.

1. Deleting an MSP account deletes its data and services stored on the console. They cannot be restored.

2. Before deletion, the account must have no unfulfilled contracts, unsettled fees, unpaid taxes or other obligations under applicable laws and regulations, and no tenant may still have an agency relationship with the MSP.

3. An audit record without personal data remains after deletion.`},
}
